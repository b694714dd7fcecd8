import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import pg from 'pg';
import { pino } from 'pino';
import { buildEvent, serializeEvent, type RequestReceivedV1 } from '@griddispatch/contracts';
import { BENCH_SCALE, generateSampleCounty } from '@griddispatch/grid';
import { DEFAULT_POLICY } from '@griddispatch/sla';
import { loadConfig, loadSampleData, requestReceivedConsumer, RoutingDataCache, type RouteOutcome, type RoutingContext } from '@griddispatch/grid-routing';

// grid-routing's decisions with everything a real one does, against a real PostgreSQL: parse the
// request.received event, inbox row, customer lookup (1,000,000 accounts in routing.customers),
// index resolution (10,016 polygons), people on duty, incident grouping for fault calls, SLA plan,
// dispatch event into the outbox, routed-request row — one transaction per decision, then one
// per batch of decisions (the consumer's batch path, as the bus hands over fetched records).
// `pnpm bench:dispatch`. Env: BENCH_DISPATCH_DECISIONS per concurrency level (default 3,000),
// BENCH_DISPATCH_SCALE=small for a quick run on the scale-1 county, DATABASE_URL (server).
// The in-memory resolver alone is measured by bench/routing.ts.

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const DECISIONS = Number(process.env.BENCH_DISPATCH_DECISIONS ?? 3_000);
const SMALL = process.env.BENCH_DISPATCH_SCALE === 'small';
const SCALE = SMALL ? { scale: 1 } : BENCH_SCALE;
const CONCURRENCY = [1, 3, 8];
const BATCHES = [50, 200];
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// Unroutable requests are logged at warn: the bench makes 5 % of them on purpose.
const logger = pino({ level: process.env.LOG_LEVEL ?? 'error' });

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const log = (msg: string) => process.stdout.write(`${msg}\n`);
const heapMb = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

let seed = 0x2545f491;
const rand = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)] as T;

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

const started = performance.now();
const dbName = `bench_dispatch_${randomUUID().slice(0, 8)}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`CREATE DATABASE "${dbName}"`);
const pool = new pg.Pool({ connectionString: withDatabase(serverUrl, dbName), max: 10 });
// DROP DATABASE … WITH (FORCE) at the end terminates whatever is still connected.
pool.on('error', () => undefined);

try {
  // The county in the import formats' records; the query mix draws from it, the load writes it.
  let t = performance.now();
  const county = generateSampleCounty(SCALE);
  log(`county ${JSON.stringify(SCALE)}: ${county.grids.length} grids, ${county.customers.length} customers (${round((performance.now() - t) / 1000, 2)} s)`);
  const accounts = county.customers.map((c) => c.accountNo);
  const districts = county.districts.map((d) => d.code);
  const communities = county.communities.map((c) => c.code);
  const polygons = county.grids.filter((g) => g.polygon?.type === 'Polygon');
  const points = polygons.map((g) => {
    const ring = (g.polygon as { coordinates: number[][][] }).coordinates[0] as number[][];
    const xs = ring.map((p) => p[0] as number);
    const ys = ring.map((p) => p[1] as number);
    return [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2] as const;
  });

  t = performance.now();
  let lastLog = 0;
  await loadSampleData(pool, {
    ...SCALE,
    onProgress: (p) => {
      if (p.phase === 'apply' && performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`  loading ${p.file}: ${p.rows}/${p.total}`);
      }
    },
  });
  const loadSeconds = round((performance.now() - t) / 1000, 1);
  log(`loaded into PostgreSQL in ${loadSeconds} s`);

  const before = heapMb();
  const cache = new RoutingDataCache(pool, 500, logger);
  t = performance.now();
  await cache.reload();
  const reloadMs = round(performance.now() - t, 0);
  const dataMb = round(heapMb() - before, 1);
  log(`routing data in memory: ${dataMb} MB heap, loaded in ${reloadMs} ms`);

  const ctx: RoutingContext = { data: cache, config: loadConfig({}), policy: DEFAULT_POLICY, now: () => new Date() };
  let outcomes: Record<string, number> = {};
  const count = (outcome: RouteOutcome) => {
    const key = outcome.status === 'assigned' ? `assigned:${outcome.event.data.resolvedBy}` : outcome.status;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  };
  const consumer = requestReceivedConsumer({ pool, logger, ctx, onOutcome: count });

  // Query mix of a working day: most calls quote the account; some only a 台区 code, a location,
  // or a community; a few resolve to nothing (unroutable). 60 % fault repairs, so grouping runs.
  let clock = Date.parse('2026-11-23T00:00:00Z');
  function nextRequest(): RequestReceivedV1 {
    clock += 1_000;
    const id = randomUUID();
    const r = rand();
    const location: RequestReceivedV1['location'] = {};
    let customer: RequestReceivedV1['customer'];
    if (r < 0.6) customer = { accountNo: pick(accounts) };
    else if (r < 0.75) location.districtCode = pick(districts);
    else if (r < 0.9) [location.lon, location.lat] = pick(points);
    else if (r < 0.95) location.communityCode = pick(communities);
    else [location.lon, location.lat] = [100 + rand(), 20 + rand()];
    return {
      id,
      source: '95598',
      externalId: id,
      category: rand() < 0.6 ? 'fault_repair' : pick(['consultation', 'billing', 'new_connection', 'complaint'] as const),
      receivedAt: new Date(clock).toISOString(),
      urgency: 'normal',
      location,
      ...(customer ? { customer } : {}),
    };
  }
  const message = (data: RequestReceivedV1) => ({
    topic: 'requests.received',
    key: data.id,
    value: Buffer.from(serializeEvent(buildEvent({ type: 'cn.griddispatch.request.received.v1', source: 'intake', subject: data.id, data }))),
    headers: {},
    partition: 0,
    offset: '0',
    attempt: 1,
  });

  // Warm up (JIT, connections, plans).
  for (let i = 0; i < 500; i++) await consumer.handler(message(nextRequest()));

  const runs = [];
  const modes = [...CONCURRENCY.map((concurrency) => ({ concurrency, batch: 1 })), ...BATCHES.map((batch) => ({ concurrency: 3, batch }))];
  for (const { concurrency, batch } of modes) {
    const latencies: number[] = [];
    outcomes = {};
    const queue = Array.from({ length: DECISIONS }, () => message(nextRequest()));
    let next = 0;
    t = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < queue.length) {
          const chunk = queue.slice(next, next + batch);
          next += chunk.length;
          const s0 = performance.now();
          if (batch === 1) await consumer.handler(chunk[0]!);
          else await consumer.batchHandler(chunk);
          latencies.push(performance.now() - s0);
        }
      }),
    );
    const seconds = (performance.now() - t) / 1000;
    latencies.sort((a, b) => a - b);
    const q = (p: number) => round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!, 2);
    const run = { concurrency, batch, decisions: DECISIONS, perSecond: round(DECISIONS / seconds, 0), p50Ms: q(0.5), p99Ms: q(0.99), maxMs: q(1), outcomes };
    log(
      `concurrency ${concurrency}, batch ${batch}: ${run.perSecond} decisions/s, ${batch === 1 ? 'decision' : 'batch'} p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms, max ${run.maxMs} ms ${JSON.stringify(outcomes)}`,
    );
    runs.push(run);
  }
  await cache.close();

  const result = {
    bench: 'dispatch',
    at: new Date().toISOString(),
    // Commit latency (WAL fsync) dominates a decision; the load average says how busy the box was.
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadavg: loadavg().map((l) => round(l, 2)) },
    scale: SCALE,
    county: { grids: county.grids.length, polygons: county.grids.filter((g) => g.polygon).length, districts: districts.length, customers: accounts.length },
    loadSeconds,
    routingData: { heapMb: dataMb, reloadMs },
    runs,
    totalSeconds: round((performance.now() - started) / 1000, 1),
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`./results/dispatch${SMALL ? '-small' : ''}.json`, import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  log(`total ${result.totalSeconds} s → bench/results/dispatch${SMALL ? '-small' : ''}.json`);
} finally {
  await pool.end();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.end();
}
