import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { periodBound, report } from './report.ts';
import { testIo } from './test-io.ts';

// `griddispatch report` against a real HTTP listener answering as grid-routing does
// (GET /v1/reports/… with Accept: text/csv): the query it sends, the CSV it writes, its errors.

const CSV = 'key,customersServed,customerInterruptions,customerMinutes,saifi,saidi,caidi,asai\r\nHH-G1,3,3,90,1,30,30,0.99895833\r\n';

const RESPONSE_CSV = 'key,gridId,category,workOrders,mtta,mttr,arrivalOnTime,etrAccuracy,incidentsRestored\r\nTC-G1/complaint,TC-G1,complaint,1,120,,,,0\r\n';

let server: Server;
let url: string;
let dir: string;
const seen: { url: string; accept: string | undefined }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gd-report-'));
  server = createServer((req, res) => {
    seen.push({ url: req.url!, accept: req.headers.accept });
    if (req.headers.authorization !== 'Bearer ops-secret-123456') {
      return res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'unauthorized', message: 'bad key' } }));
    }
    const u = new URL(req.url!, 'http://x');
    if (u.pathname === '/v1/reports/response') return res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' }).end(RESPONSE_CSV);
    if (u.pathname === '/v1/reports/reliability') {
      return res
        .writeHead(200, {
          'content-type': 'text/csv; charset=utf-8',
          'x-med-days': '2026-12-18',
          'x-excluded-med': u.searchParams.get('includeMed') === 'true' ? 'false' : 'true',
        })
        .end(CSV);
    }
    return res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: 'no route' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[], key = 'ops-secret-123456') {
  const t = testIo({ env: { GD_URL: url, GD_API_KEY: key, GD_TIME_ZONE: 'Asia/Shanghai' } });
  const code = await report(args, t.io);
  return { code, out: t.stdout(), err: t.stderr() };
}

describe('griddispatch report', () => {
  it('asks for CSV with local-midnight bounds and writes it to stdout as it came; the major event days to stderr', async () => {
    const { code, out, err } = await run(['reliability', '--from', '2026-12-01', '--to', '2026-12-21', '--group-by', 'feeder']);
    expect({ code, err }).toEqual({ code: 0, err: 'major event days: 2026-12-18 (left out; --include-med counts them)\n' });
    expect(out).toBe(CSV);
    const last = seen.at(-1)!;
    expect(last.accept).toBe('text/csv');
    const q = new URL(last.url, 'http://x').searchParams;
    expect(Object.fromEntries(q)).toEqual({ from: '2026-11-30T16:00:00.000Z', to: '2026-12-20T16:00:00.000Z', groupBy: 'feeder' });
  });

  it('response by grid and category', async () => {
    const { code, out } = await run(['response', '--from', '2026-12-01', '--to', '2026-12-21', '--group-by', 'grid_category']);
    expect({ code, out }).toEqual({ code: 0, out: RESPONSE_CSV });
    expect(new URL(seen.at(-1)!.url, 'http://x').searchParams.get('groupBy')).toBe('grid_category');
  });

  it('--include-med and --out: the file holds the CSV byte for byte', async () => {
    const file = join(dir, 'r.csv');
    const { code, out, err } = await run([
      'reliability',
      '--from',
      '2026-12-01T00:00:00+08:00',
      '--to',
      '2026-12-21T00:00:00Z',
      '--include-med',
      '--out',
      file,
    ]);
    expect(code).toBe(0);
    expect(out).toBe('');
    expect(err).toContain('(counted)');
    expect(err).toContain(`wrote 1 rows to ${file}`);
    expect(await readFile(file, 'utf8')).toBe(CSV);
    expect(new URL(seen.at(-1)!.url, 'http://x').searchParams.get('includeMed')).toBe('true');
  });

  it('usage errors exit 2 without asking the API; API errors exit 1', async () => {
    const before = seen.length;
    for (const args of [
      ['reliability', '--to', '2026-12-21'],
      ['reliability', '--from', '2026-12-21', '--to', '2026-12-01'],
      ['reliability', '--from', 'yesterday', '--to', '2026-12-01'],
      ['reliability', '--from', '2026-02-30', '--to', '2026-03-01'],
      ['reliability', '--from', '2026-12-01', '--to', '2026-12-21', '--group-by', 'area'],
      ['response', '--from', '2026-12-01', '--to', '2026-12-21', '--group-by', 'feeder'],
      ['availability', '--from', '2026-12-01', '--to', '2026-12-21'],
      [],
    ]) {
      const { code, err } = await run(args);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(err).toMatch(/^error: .*\n\nusage: griddispatch report/);
    }
    expect(seen.length).toBe(before);
    const denied = await run(['reliability', '--from', '2026-12-01', '--to', '2026-12-21'], 'wrong-key-0000000');
    expect(denied).toMatchObject({ code: 1, out: '' });
    expect(denied.err).toContain('401');
  });

  it('--help on stdout', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/^usage: griddispatch report reliability/);
  });

  it('periodBound: a date is midnight in the zone, across a daylight-saving change too', () => {
    expect(periodBound('from', '2026-12-01', 'Asia/Shanghai')).toBe('2026-11-30T16:00:00.000Z');
    expect(periodBound('from', '2026-03-29', 'Europe/Berlin')).toBe('2026-03-28T23:00:00.000Z');
    expect(periodBound('from', '2026-03-30', 'Europe/Berlin')).toBe('2026-03-29T22:00:00.000Z');
  });
});
