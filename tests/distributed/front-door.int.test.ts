import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import { freshDatabase, testTopicPrefix, type FreshDatabase } from '@griddispatch/testkit';
import { call, eventually, localTime } from './harness/api.ts';
import { deleteRun, kafkaClient } from './harness/topics.ts';

// `pnpm stack:up` as an operator runs it: infra/local/stack.sh brings up each service as its own
// process (two grid-routing replicas) and nginx in front of them, and every public path answers
// through that one address — grids and re-routing from grid-routing, subscriptions, deliveries
// and inbound SMS from notification, everything else from intake, the board's event stream unbuffered. Then
// `status` and `down`. The run dir, ports, database and topic prefix are this test's own.

const root = fileURLToPath(new URL('../..', import.meta.url));
const key = () => randomBytes(16).toString('hex');
const KEYS = { c95598: key(), civic: key(), field: key(), reader: key(), integrator: key(), ops: key(), probe: key() };
const API_KEYS = [
  `sgcc-95598:${KEYS.c95598}:requests:write`,
  `civic-platform:${KEYS.civic}:requests:write`,
  `field-app:${KEYS.field}:workorders:write`,
  `board:${KEYS.reader}:requests:read`,
  `integrator:${KEYS.integrator}:subscriptions:write`,
  `ops:${KEYS.ops}:admin`,
  `probe:${KEYS.probe}:requests:read`,
].join(',');

let db: FreshDatabase;
let prefix: string;
let runDir: string;
let portBase: number;
let env: NodeJS.ProcessEnv;
let failed = false;
let up = false;

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A front-door port whose service ports (base + 100 … base + 113) are free too. */
async function freePortBase(): Promise<number> {
  for (;;) {
    const base = randomInt(20_000, 40_000);
    const ports = [base, ...[0, 1, 2, 3, 11].map((o) => base + 100 + o)];
    if (!(await Promise.all(ports.map(portOpen))).some(Boolean)) return base;
  }
}

function stack(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(root, 'infra/local/stack.sh'), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

beforeAll(async () => {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set (vitest global setup: packages/testkit)');
  db = await freshDatabase('e2e_front_door');
  prefix = testTopicPrefix();
  runDir = await mkdtemp(join(tmpdir(), 'gd-front-door-'));
  portBase = await freePortBase();
  // The test runner's own variables stay out: the processes run as `pnpm stack:up` runs them.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'NODE_ENV'));
  env = {
    ...inherited,
    DATABASE_URL: db.url,
    KAFKA_BROKERS: brokers,
    GD_TOPIC_PREFIX: prefix,
    GD_API_KEYS: API_KEYS,
    STACK_RUN_DIR: runDir,
    STACK_PORT_BASE: String(portBase),
    LOG_LEVEL: 'info',
  };
}, 60_000);

afterAll(async () => {
  // Whatever happened, nothing of this run keeps running.
  if (up) await stack(['down'], 90_000).catch(() => undefined);
  await db?.drop();
  if (prefix) await deleteRun(kafkaClient(process.env.KAFKA_BROKERS!.split(','), 'front-door-cleanup'), prefix).catch(() => undefined);
  if (failed) console.error(`front door: run dir (logs, nginx config) kept in ${runDir}`);
  else if (runDir) await rm(runDir, { recursive: true, force: true });
}, 120_000);

/** Reads an SSE response until `until` matches what arrived, or `timeoutMs` passes. */
async function readStream(body: ReadableStream<Uint8Array>, until: RegExp, timeoutMs: number, seen: { text: string }): Promise<boolean> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const deadline = Date.now() + timeoutMs;
  try {
    while (!until.test(seen.text)) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), left))]);
      if (chunk === null || chunk.done) return until.test(seen.text);
      seen.text += decoder.decode(chunk.value, { stream: true });
    }
    return true;
  } finally {
    reader.releaseLock();
  }
}

it('serves every public path through one front door, over replicas, and stops with down', async () => {
  onTestFailed(() => {
    failed = true;
  });
  const started = await stack(['up', '--replicas', 'routing=2'], 240_000);
  up = true;
  expect(started.code, started.out).toBe(0);
  expect(started.out).toContain(`front door: nginx`);
  const base = `http://127.0.0.1:${portBase}`;
  const run = randomBytes(3).toString('hex');

  // The board's live stream, opened first: every frame must pass nginx as it is written.
  const issued = await fetch(`${base}/v1/stream-tokens`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.reader}` } });
  expect(issued.status).toBe(200);
  const { token } = (await issued.json()) as { token: string };
  const stream = await fetch(`${base}/v1/events/stream?token=${token}`, { headers: { accept: 'text/event-stream' } });
  expect(stream.status).toBe(200);
  expect(stream.headers.get('content-type')).toContain('text/event-stream');
  const seen = { text: '' };
  expect(await readStream(stream.body!, /event: hello/, 5_000, seen), seen.text).toBe(true);

  // intake: the three request shapes, the request views.
  const slsj = localTime(new Date(), 'Asia/Shanghai');
  const generic = await call(`${base}/v1/requests`, {
    key: KEYS.c95598,
    json: {
      source: '95598',
      externalId: `FD${run}01`,
      category: 'fault_repair',
      urgency: 'urgent',
      description: '全组停电',
      location: { districtCode: 'HH-TQ-017' },
    },
  });
  expect(generic.status, JSON.stringify(generic.body)).toBe(202);
  const fromCallCentre = await call(`${base}/v1/requests/95598`, {
    key: KEYS.c95598,
    json: { slsj, gdbh: `FD${run}02`, ywlb: '04', tqbh: 'HH-TQ-017', slnr: '咨询电价' },
  });
  expect(fromCallCentre.status, JSON.stringify(fromCallCentre.body)).toBe(202);
  const hotline = await call(`${base}/v1/requests/12345`, {
    key: KEYS.c95598,
    json: {
      caseId: `FD-${run}-3`,
      eventType: 'POWER_OUTAGE',
      title: '小区停电',
      content: '整栋停电',
      reportTime: slsj,
      priority: 'URGENT',
      longitude: 114.2468,
      latitude: 29.5412,
    },
  });
  expect(hotline.status, JSON.stringify(hotline.body)).toBe(202);
  const id = (generic.body as { id: string }).id;
  expect((await call(`${base}/v1/requests/${id}`, { key: KEYS.ops })).status).toBe(200);
  expect((await call(`${base}/v1/requests?limit=5`, { key: KEYS.ops })).status).toBe(200);

  // The request reaches the board's stream through nginx within seconds (routing assigned it).
  expect(await readStream(stream.body!, new RegExp(`event: workorder[^]*${id}`), 30_000, seen), seen.text.slice(-500)).toBe(true);
  await stream.body!.cancel();

  // intake: the field app's events, the board's snapshot, Open311.
  await eventually(
    `${id} assigned`,
    60_000,
    async () => ((await call(`${base}/v1/requests/${id}`, { key: KEYS.ops })).body as { status: string }).status === 'assigned' || undefined,
  );
  expect((await call(`${base}/v1/work-orders/${id}/events`, { key: KEYS.field, json: { type: 'acknowledged' } })).status).toBe(200);
  const snapshot = await call(`${base}/v1/board/work-orders`, { key: KEYS.reader });
  expect(snapshot.status).toBe(200);
  expect((snapshot.body as { items: { id: string }[] }).items.map((i) => i.id)).toContain(id);
  expect((await call(`${base}/open311/v2/services.json`, { key: KEYS.reader })).status).toBe(200);
  const unroutable = await call(`${base}/open311/v2/requests.json`, {
    key: KEYS.civic,
    form: { api_key: KEYS.civic, service_code: 'consultation', lat: '20', long: '100', 'attribute[external_id]': `fd-${run}-4`, description: '不在辖区' },
  });
  expect(unroutable.status, JSON.stringify(unroutable.body)).toBeLessThan(300);
  const unroutableId = (unroutable.body as { service_request_id: string }[])[0]!.service_request_id;
  expect((await call(`${base}/open311/v2/requests.json?service_code=consultation`, { key: KEYS.reader })).status).toBe(200);

  // grid-routing: grids (on both replicas), the fallback desk, re-routing by hand.
  const grids = await call(`${base}/v1/grids`, { key: KEYS.reader });
  expect(grids.status).toBe(200);
  const gridItems = (grids.body as { items: { id: string }[] }).items;
  expect(gridItems.length).toBeGreaterThan(0);
  expect((await call(`${base}/v1/grids/${gridItems[0]!.id}`, { key: KEYS.reader })).status).toBe(200);
  for (let i = 0; i < 10; i++) expect((await call(`${base}/v1/grids`, { key: KEYS.reader })).status).toBe(200);
  await eventually(`${unroutableId} at the fallback desk`, 60_000, async () => {
    const desk = await call(`${base}/v1/routing/unroutable`, { key: KEYS.reader });
    expect(desk.status).toBe(200);
    return JSON.stringify(desk.body).includes(unroutableId) || undefined;
  });
  const rerouted = await call(`${base}/v1/requests/${unroutableId}/reroute`, { key: KEYS.ops, json: { gridId: gridItems[0]!.id } });
  expect(rerouted.status, JSON.stringify(rerouted.body)).toBe(200);
  expect(rerouted.body).toMatchObject({ id: unroutableId, status: 'assigned', gridId: gridItems[0]!.id });
  // Both replicas answered grid requests: each one's own /metrics counts some.
  for (const replica of ['grid-routing-1', 'grid-routing-2']) {
    const port = (await readFile(join(runDir, `${replica}.port`), 'utf8')).trim();
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${KEYS.ops}` } })).text();
    expect(metrics, replica).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/v1\/grids"[^}]*\} [1-9]/);
  }

  // notification: subscriptions and the delivery log.
  const sub = await call(`${base}/v1/subscriptions`, { key: KEYS.integrator, json: { url: 'https://example.org/hook', events: ['sla.breached'] } });
  expect(sub.status, JSON.stringify(sub.body)).toBe(201);
  const subId = (sub.body as { id: string }).id;
  expect(JSON.stringify((await call(`${base}/v1/subscriptions`, { key: KEYS.integrator })).body)).toContain(subId);
  expect((await call(`${base}/v1/subscriptions/${subId}`, { key: KEYS.integrator, method: 'DELETE' })).status).toBeLessThan(300);
  expect((await call(`${base}/v1/deliveries`, { key: KEYS.ops })).status).toBe(200);
  // notification: SMS replies from the gateway (a number nobody asked is refused, in notification's shape).
  const inbound = await call(`${base}/v1/inbound/sms`, { key: KEYS.ops, json: { from: '13500000000', text: '1', at: new Date().toISOString() } });
  expect(inbound.status, JSON.stringify(inbound.body)).toBe(200);
  expect(inbound.body).toEqual({ results: [{ outcome: 'refused', reason: 'not_asked', replied: false }] });
  // intake: callback answers taken by phone (this request was never asked).
  const answer = await call(`${base}/v1/callbacks/${unroutableId}`, { key: KEYS.ops, json: { reply: 'restored' } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(409);
  expect(answer.body).toMatchObject({ error: { code: 'not_asked' } });

  // The board page, whose grid outlines come from /v1/grids on its own origin: the front door.
  const page = await fetch(`${base}/board`);
  expect(page.status).toBe(200);
  const html = await page.text();
  const gridsUrl = /"gridsUrl":"([^"]+)"/.exec(html)?.[1];
  expect(gridsUrl).toBeDefined();
  const outlines = await call(new URL(gridsUrl!, `${base}/board`).toString(), { key: KEYS.reader });
  expect(outlines.status).toBe(200);
  expect((outlines.body as { items: unknown[] }).items).toHaveLength(gridItems.length);

  // The reports page: its chart library from intake, its figures from grid-routing's reports
  // next to the grid outlines (nginx: /v1/reports/ → grid-routing).
  const reportsPage = await fetch(`${base}/board/reports`);
  expect(reportsPage.status).toBe(200);
  const reportsUrl = /"reportsUrl":"([^"]+)"/.exec(await reportsPage.text())?.[1];
  expect(reportsUrl).toBe('../v1/reports');
  expect((await fetch(`${base}/board/vendor/chart.umd.min.js`)).status).toBe(200);
  const series = await call(
    new URL(
      `${reportsUrl}/reliability/series?from=${encodeURIComponent('2026-01-01T00:00:00+08:00')}&to=${encodeURIComponent('2026-03-01T00:00:00+08:00')}`,
      `${base}/board/reports`,
    ).toString(),
    { key: KEYS.reader },
  );
  expect(series.status, JSON.stringify(series.body)).toBe(200);
  expect((series.body as { buckets: unknown[] }).buckets).toHaveLength(2);

  // The docs, health and metrics of the front door's default service.
  expect((await fetch(`${base}/docs/json`)).status).toBe(200);
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  expect((await fetch(`${base}/readyz`)).status).toBe(200);
  // Metrics need a metrics:read (or admin) key, through the front door as on the service's port.
  expect((await fetch(`${base}/metrics`)).status).toBe(401);
  expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${KEYS.ops}` } })).status).toBe(200);

  // Failed logins count per client behind the front door (GD_TRUST_PROXY): one client's wrong
  // keys are throttled, another client with a right key (used for the first time: not cached) is not.
  const asClient = (address: string, key: string) =>
    fetch(`${base}/v1/requests?limit=1`, { headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': address } });
  const wrong: number[] = [];
  for (let i = 0; i < 25; i += 1) wrong.push((await asClient('203.0.113.7', `gdk_wrong${i}${key()}`)).status);
  expect(wrong.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
  expect(wrong.at(-1)).toBe(429);
  expect((await asClient('198.51.100.9', KEYS.probe)).status).toBe(200);

  const status = await stack(['status'], 30_000);
  expect(status.code, status.out).toBe(0);
  expect(status.out).toMatch(/front-door\s+\d+\s+http:\/\/127\.0\.0\.1:\d+\s+ready/);
  expect(status.out).toMatch(/grid-routing-2\s+\d+/);

  const down = await stack(['down'], 90_000);
  up = false;
  expect(down.code, down.out).toBe(0);
  expect(down.out).toContain('stopped the front door');
  expect(await portOpen(portBase)).toBe(false);
  expect((await stack(['status'], 30_000)).code).toBe(3);
}, 420_000);
