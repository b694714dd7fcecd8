import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessBus, type Bus } from '@griddispatch/bus';
import { parseHttpEnv } from '@griddispatch/http';
import { createLogger } from '@griddispatch/observability';
import { freshDatabase, type FreshDatabase } from '@griddispatch/testkit';
import { buildStack, type Stack } from '../stack.ts';
import { requests, type RequestSummary } from './requests.ts';
import { simulate } from './simulate.ts';
import { testIo } from './test-io.ts';

// The HTTP commands against the real embedded stack (intake, grid-routing, sla-timer, notification
// on one host, sample county loaded): `simulate` posts traffic, the stack routes it, and
// `requests list/show` render what an operator would see.

let db: FreshDatabase;
let bus: Bus;
let stack: Stack;
let env: Record<string, string>;

async function run(command: typeof requests, args: string[], extraEnv: Record<string, string> = {}) {
  const t = testIo({ env: { ...env, ...extraEnv } });
  const code = await command(args, t.io);
  return { code, out: t.stdout(), err: t.stderr() };
}

async function listJson(args: string[] = []): Promise<RequestSummary[]> {
  const { code, out } = await run(requests, ['list', '--json', '--limit', '200', ...args]);
  expect(code).toBe(0);
  return (JSON.parse(out) as { items: RequestSummary[] }).items;
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  db = await freshDatabase('cli_requests');
  const logger = createLogger({ service: 'cli-test', level: process.env.LOG_LEVEL ?? 'warn' });
  bus = createInProcessBus({ prefix: 'griddispatch.', logger });
  // The embedded start's development key, which the CLI uses when GD_API_KEY is unset.
  const http = parseHttpEnv({ GD_API_KEYS: 'dev:dev-secret:admin', GD_RATE_LIMIT_MAX: '0' }, { allowDevSecret: true });
  stack = await buildStack({ pool: db.pool, bus, logger, http, sampleData: true });
  const address = await stack.host.listen({ port: 0, host: '127.0.0.1' });
  env = { GD_URL: address, GD_TIME_ZONE: 'Asia/Shanghai' };
});

afterAll(async () => {
  await stack?.stop();
  await bus?.close();
  await db?.drop();
});

describe('griddispatch simulate', () => {
  it('posts realistic requests at the fixed rate and summarises what came back', async () => {
    const { code, out, err } = await run(simulate, ['--rate', '20', '--duration', '1s', '--seed', '7']);
    expect(err).toContain('simulate: 20 requests to');
    expect(code).toBe(0);
    const accepted = Number(/accepted 202 +(\d+)/.exec(out)?.[1]);
    const duplicates = Number(/duplicates +(\d+)/.exec(out)?.[1]);
    expect(accepted + duplicates).toBe(20);
    expect(out).toMatch(/sent +20\n/);
    expect(out).toMatch(/errors +0\n/);
    expect(out).toMatch(/latency +p50 \d+ ms · p99 \d+ ms · max \d+ ms/);
    // Open loop at 20/s: one second, not one round trip after another.
    const secs = Number(/in ([\d.]+)s/.exec(out)?.[1]);
    expect(secs).toBeGreaterThanOrEqual(0.9);
    expect(secs).toBeLessThan(3);

    // Every request lands on a real 台区 of the sample county: the stack routes all of them, and the
    // work orders grid-dispatch opens for feeder incidents (source grid-dispatch) as well.
    const calls = (list: Awaited<ReturnType<typeof listJson>>) => list.filter((r) => r.source !== 'grid-dispatch');
    const items = await until(
      () => listJson(),
      (list) => calls(list).length === accepted && list.every((r) => r.status !== 'received'),
      'all requests routed',
    );
    expect(items.filter((r) => r.status === 'unroutable')).toEqual([]);
    expect(items.every((r) => r.grid !== null && r.sla !== null)).toBe(true);
  });

  it('sends a typhoon surge from 12345 and names the feeders it hits', async () => {
    const { code, out } = await run(simulate, ['--rate', '10', '--duration', '1s', '--storm', '--source', '12345', '--seed', '3']);
    expect(code).toBe(0);
    expect(out).toMatch(/storm on +10kV\S+ \([A-Z]+-10kV-\d\d\), 10kV/);
    await until(
      () => listJson(),
      (list) => list.every((r) => r.status !== 'received') && list.some((r) => r.source === '12345'),
      '12345 requests routed',
    );
  });

  it('rejects bad usage with exit code 2', async () => {
    expect((await run(simulate, ['--rate', '10'])).code).toBe(2);
    expect((await run(simulate, ['--rate', '0', '--duration', '1s'])).code).toBe(2);
    expect((await run(simulate, ['--rate', '10', '--duration', 'soon'])).code).toBe(2);
    expect((await run(simulate, ['--rate', '10', '--duration', '1s', '--source', 'wechat'])).code).toBe(2);
  });
});

describe('griddispatch requests', () => {
  it('lists requests as an aligned table with grid, masked assignee and the time left', async () => {
    const { code, out } = await run(requests, ['list']);
    expect(code).toBe(0);
    const [header, ...rows] = out.trimEnd().split('\n');
    expect(header).toMatch(/^收到 +编号 +来源 +类别 +状态 +网格 +负责人 +故障事件 +下一截止 +超时$/);
    // 20 shown (the default limit), then the hint.
    expect(rows.at(-1)).toBe('20 shown; more with --limit 40');
    const table = rows.slice(0, -1);
    expect(table).toHaveLength(20);
    for (const row of table) {
      expect(row).toMatch(/^\d\d:\d\d:\d\d {2}[0-9a-f-]{36} {2}(95598|12345|grid-dispatch) /);
      expect(row).toMatch(/ (后湖\d号网格|\S+社区\S*) /);
      // Names masked: one character then stars, with the role.
      expect(row).toMatch(/ \S\*+ \((manager|assistant|supervisor|repair_crew|station_head)\)/);
    }
    const open = table.filter((r) => r.includes('已派单'));
    expect(open.length).toBeGreaterThan(0);
    // Nothing acknowledged yet: the next deadline is the ack (a 95598 fault within minutes, a complaint in working hours).
    for (const row of open) expect(row).toMatch(/响应 (\d\d-\d\d )?\d\d:\d\d \(剩余 \w+\)$/);
    expect(open.some((row) => /\(剩余 \d+m\)$/.test(row))).toBe(true);
    // Columns line up: the id column starts at the same display column in every row.
    const idColumn = (line: string) => line.indexOf('-') - 8;
    expect(new Set(table.map(idColumn)).size).toBe(1);
  });

  it('filters by grid, status and category, and pages past the API page size', async () => {
    const all = await listJson();
    const grid = all[0]!.grid!.id;
    const inGrid = all.filter((r) => r.grid?.id === grid);
    const { out } = await run(requests, ['list', '--grid', grid, '--limit', '100']);
    const rows = out.trimEnd().split('\n').slice(1);
    expect(rows).toHaveLength(inGrid.length);
    for (const row of rows) expect(row).toContain(all[0]!.grid!.name);

    const faults = await listJson(['--category', 'fault_repair', '--status', 'assigned']);
    expect(faults.length).toBeGreaterThan(0);
    expect(faults.every((r) => r.category === 'fault_repair' && r.status === 'assigned')).toBe(true);

    const few = await run(requests, ['list', '--limit', '3']);
    expect(few.out.trimEnd().split('\n')).toHaveLength(5);
    expect(few.out).toContain('3 shown; more with --limit 6');

    const none = await run(requests, ['list', '--breached']);
    expect(none.out).toBe('no requests match\n');
  });

  it('shows one request with its grid, deadlines and timeline, marking the stages done', async () => {
    const [first] = await listJson(['--status', 'assigned']);
    const id = first!.id;
    const ack = await fetch(`${env.GD_URL}/v1/work-orders/${id}/events`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-secret', 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'acknowledged', by: '张国强', note: '已电话联系客户' }),
    });
    expect(ack.status).toBeLessThan(300);
    await until(
      () => listJson(['--status', 'acknowledged']),
      (list) => list.some((r) => r.id === id),
      'the acknowledgement in the read model',
    );

    const { code, out } = await run(requests, ['show', id]);
    expect(code).toBe(0);
    expect(out).toContain(`请求 ${id}`);
    expect(out).toMatch(/category +[\u4e00-\u9fff]+ \([a-z_]+\)/);
    expect(out).toMatch(/status +已响应 \(acknowledged\)/);
    expect(out).toContain(`${first!.grid!.name} (${first!.grid!.id}, ${first!.grid!.kind})`);
    expect(out).toMatch(/sla +\S+/);
    // A deadline reads `14:32` today and `11-04 09:00` on another day (the resolve window may end after midnight in Shanghai).
    expect(out).toMatch(/响应 {2}(\d\d-\d\d )?\d\d:\d\d +✓ 已完成/);
    expect(out).toMatch(/办结 {2}(\d\d-\d\d )?\d\d:\d\d +剩余 \d/);
    expect(out).toMatch(/timeline\n {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}request\.received via dev\n {2}\S+ \S+ {2}dispatch\.assigned · /);
    expect(out).toMatch(/workorder\.acknowledged by 张\*\* · 已电话联系客户/);
    expect(out).not.toContain('张国强');
  });

  it('explains errors: unknown id, rejected key, server down, bad usage', async () => {
    const missing = await run(requests, ['show', '00000000-0000-4000-8000-000000000000']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('HTTP 404 not_found');

    const badKey = await run(requests, ['list'], { GD_API_KEY: 'wrong' });
    expect(badKey.code).toBe(1);
    expect(badKey.err).toContain('rejected the key (401');

    const closed = await closedPort();
    const down = await run(requests, ['list'], { GD_URL: `http://127.0.0.1:${closed}` });
    expect(down.code).toBe(1);
    expect(down.err).toContain(`cannot reach grid-dispatch at http://127.0.0.1:${closed} (ECONNREFUSED)`);

    expect((await run(requests, ['list', '--status', 'open'])).code).toBe(2);
    expect((await run(requests, ['show'])).code).toBe(2);
    expect((await run(requests, ['delete', 'x'])).code).toBe(2);
    expect((await run(requests, ['list', '--limit', 'lots'])).code).toBe(2);
    const help = await run(requests, ['list', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('usage: griddispatch requests list');
  });
});
