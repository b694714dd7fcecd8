import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '@griddispatch/contracts';
import { incidents } from './incidents.ts';
import { testIo } from './test-io.ts';

// `griddispatch incidents` against a real HTTP listener answering GET /v1/incidents as
// grid-routing does (docs/architecture.md#incidents): what an operator sees, what reaches the terminal, and which
// queries the command sends.

const NOW = new Date('2026-12-07T06:00:00.000Z'); // 14:00 in Asia/Shanghai
const HOSTILE = '\u001b[2J\u001b]0;pwned\u0007\u009b1A\u202eevil';
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

function incident(over: Partial<Incident>): Incident {
  return {
    id: 'INC-1',
    status: 'dispatched',
    origin: 'call',
    kind: 'district',
    gridId: 'HH-G03',
    feederCode: 'HH-F03',
    districtCodes: ['HH-TQ-046'],
    parentId: null,
    childIds: [],
    callCount: 6,
    affectedCustomers: 120,
    urgency: 'urgent',
    openedAt: '2026-12-07T05:10:00.000Z',
    etr: '2026-12-07T07:30:00.000Z',
    etrSource: 'policy',
    primaryRequestId: '7a6c1f4e-1111-4222-8333-944455556666',
    plannedOutageId: null,
    restoredAt: null,
    restorationUnconfirmed: false,
    updatedAt: '2026-12-07T05:20:00.000Z',
    ...over,
  };
}

const FEEDER = incident({
  id: 'INC-F',
  kind: 'feeder',
  districtCodes: ['HH-TQ-046', 'HH-TQ-047', 'HH-TQ-048'],
  childIds: ['INC-1', 'INC-3'],
  callCount: 0,
  affectedCustomers: 200,
  openedAt: '2026-12-07T05:40:00.000Z',
  etr: '2026-12-07T08:00:00.000Z',
  etrSource: 'manual',
});
const ITEMS = [
  FEEDER,
  incident({
    id: 'INC-3',
    parentId: 'INC-F',
    districtCodes: ['HH-TQ-048'],
    status: 'open',
    origin: 'meter',
    callCount: 1,
    affectedCustomers: 35,
    primaryRequestId: null,
    openedAt: '2026-12-07T05:30:00.000Z',
  }),
  incident({ id: 'INC-1', parentId: 'INC-F' }),
  incident({
    id: `INC-X${HOSTILE}`,
    gridId: `TC-G01${HOSTILE}`,
    districtCodes: [`TC-TQ-001${HOSTILE}`],
    status: 'restored',
    restoredAt: '2026-12-07T05:50:00.000Z',
    restorationUnconfirmed: true,
    etr: '2026-12-07T05:00:00.000Z',
    openedAt: '2026-12-07T04:00:00.000Z',
  }),
];

let server: Server;
let url: string;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url!);
    const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.headers.authorization !== 'Bearer ops-secret-123456') return send(401, { error: { code: 'unauthorized', message: 'bad key' } });
    const u = new URL(req.url!, 'http://x');
    if (u.pathname === '/v1/incidents') {
      // Two pages, as grid-routing pages with a cursor.
      if (u.searchParams.get('cursor') === 'page-2') return send(200, { items: ITEMS.slice(2), nextCursor: null });
      if (u.searchParams.get('status') === 'closed') return send(200, { items: [], nextCursor: null });
      return send(200, { items: ITEMS.slice(0, 2), nextCursor: 'page-2' });
    }
    const one = ITEMS.find((i) => `/v1/incidents/${encodeURIComponent(i.id)}` === u.pathname);
    if (one) return send(200, one);
    return send(404, { error: { code: 'not_found', message: `incident not found` } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

async function run(args: string[]) {
  const t = testIo({ env: { GD_URL: url, GD_API_KEY: 'ops-secret-123456', GD_TIME_ZONE: 'Asia/Shanghai' }, now: () => NOW });
  const code = await incidents(args, t.io);
  return { code, out: t.stdout(), err: t.stderr() };
}

describe('griddispatch incidents', () => {
  it('lists incidents over every page, 台区 incidents under their feeder incident, with size, status and ETR', async () => {
    const { code, out, err } = await run(['list']);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^开始\s+编号\s+状态\s+来源\s+网格\s+台区\s+来电\s+停电户\s+预计复电$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[1])).toEqual(['INC-F [馈线 HH-F03]', '└ INC-3', '└ INC-1', 'INC-Xevil']);
    expect(lines[1]).toMatch(/^13:40:00\s+INC-F \[馈线 HH-F03\]\s+已派单\s+来电\s+HH-G03\s+HH-TQ-046 等 3 个\s+0\s+200\s+16:00 人工 \(剩余 2h00m\)$/);
    expect(lines[2]).toMatch(/└ INC-3\s+待派单\s+电表告警\s+HH-G03\s+HH-TQ-048\s+1\s+35\s+15:30 \(剩余 1h30m\)$/);
    // Restored: no countdown, and a restoration the meters have not confirmed says so.
    expect(lines[4]).toMatch(/已复电\s+来电\s+TC-G01evil\s+TC-TQ-001evil\s+6\s+120\s+13:00\s+复电待确认$/);
    // Text from the API cannot drive the terminal.
    expect(out).not.toMatch(CONTROL);
    expect(seen.filter((u) => u.startsWith('/v1/incidents?') || u === '/v1/incidents')).toEqual(['/v1/incidents', '/v1/incidents?cursor=page-2']);
  });

  it('passes the filters to the API and answers --json with the API’s items', async () => {
    seen.length = 0;
    const { code, out } = await run(['--status', 'closed', '--grid', 'HH-G03', '--feeder', 'HH-F03']);
    expect(code).toBe(0);
    expect(out).toBe('no incidents match\n');
    expect(seen).toEqual(['/v1/incidents?status=closed&gridId=HH-G03&feederCode=HH-F03']);

    const json = await run(['list', '--json', '--limit', '3']);
    const body = JSON.parse(json.out) as { items: Incident[] };
    expect(body.items.map((i) => i.id)).toEqual(['INC-F', 'INC-3', 'INC-1']);
  });

  it('shows one incident in detail', async () => {
    const { code, out } = await run(['show', 'INC-3']);
    expect(code).toBe(0);
    expect(out).toContain('故障事件 INC-3');
    expect(out).toMatch(/status\s+待派单 \(open\)/);
    expect(out).toMatch(/origin\s+电表告警 \(meter\)/);
    expect(out).toMatch(/parent\s+INC-F/);
    expect(out).toMatch(/size\s+1 来电 · 35 户停电/);
    expect(out).toMatch(/etr\s+2026-12-07 15:30:00 \(policy\) 剩余 1h30m/);
    expect(out).toMatch(/work order\s+— \(none yet\)/);
    const restored = await run(['show', `INC-X${HOSTILE}`]);
    expect(restored.out).toMatch(/restored\s+2026-12-07 13:50:00 · meters still report off \(unconfirmed\)/);
    expect(restored.out).not.toMatch(CONTROL);
  });

  it('prints its help on stdout, and usage errors and API errors on stderr', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^usage: griddispatch incidents/);
    expect(help.err).toBe('');

    const badStatus = await run(['list', '--status', 'lost']);
    expect(badStatus.code).toBe(2);
    expect(badStatus.err).toContain('--status must be one of open, dispatched, en_route, arrived, restored, closed');
    expect((await run(['show'])).err).toContain('incidents show needs exactly one incident id');
    expect((await run(['show', 'INC-1', '--grid', 'HH-G03'])).err).toContain('--grid is for incidents list');
    expect((await run(['purge'])).code).toBe(2);

    const missing = await run(['show', 'INC-404']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('HTTP 404 not_found');
  });
});
