import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { pino } from 'pino';
import { createInProcessBus, type Bus } from '@griddispatch/bus';
import { Topics, isEvent, parseEvent } from '@griddispatch/contracts';
import { DEFAULT_POLICY } from '@griddispatch/sla';
import { buildSlaTimer, type SlaTimerHandle } from '@griddispatch/sla-timer';

// SLA timers at scale: `pnpm bench:sla-timer [--pending 1000000] [--scale 1] [--rate 1000]
// [--seconds 30] [--burst 10000]`. Bounded to about 3 minutes at the defaults.
//  1. N pending timers (far in the future) in sla_timer.timers: table size, insert time, and the
//     scheduler process's memory — which must not grow with N (only the next minute is in memory).
//  2. Paced: `rate` deadlines per second for `seconds` s, on top of that backlog: firing lateness
//     p50/p99/max, measured at the commit of the fired state (`fired`) and where a subscriber of
//     sla.breaches receives the event (`delivered`, through the outbox relay and the bus).
//  3. Burst: `burst` timers due at the same instant: how fast they are worked off.
// The same schedule then runs on pg-boss 10.3.2 delayed jobs (`startAfter`) in the same database,
// with the same backlog, a worker at pg-boss's fastest polling (0.5 s) and batches of 1,000;
// lateness is measured where its handler receives the job. Results as ratios, and in
// bench/results/sla-timer.json. Both backlogs are written with generate_series (COPY-speed), side
// by side before anything is measured; pg-boss's maintenance is not running during sla-timer's phases.

const { values: args } = parseArgs({
  options: {
    pending: { type: 'string', default: '1000000' },
    scale: { type: 'string', default: '1' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '30' },
    burst: { type: 'string', default: '10000' },
  },
});
const PENDING = Math.round(Number(args.pending) * Number(args.scale));
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const BURST = Number(args.burst);
const PACED = Math.round(RATE * SECONDS);
// Between starting to insert a schedule and its first deadline: inserting 30,000 timers takes a
// second or two on a busy machine, and the scheduler learns of rows written behind its back at
// its next poll (its own consumers tell it at once).
const LEAD_MS = 6_000;
const QUEUE = 'sla-bench';

const started = Date.now();
const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const log = (msg: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Lateness {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function lateness(values: number[]): Lateness {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : Number.NaN);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { count: s.length, p50Ms: r(at(0.5)), p99Ms: r(at(0.99)), maxMs: r(s[s.length - 1] ?? Number.NaN) };
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dbName = `bench_sla_${randomBytes(3).toString('hex')}`;
const dbUrl = (() => {
  const u = new URL(serverUrl);
  u.pathname = `/${dbName}`;
  return u.toString();
})();

async function onServer(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// sla-timer

/**
 * The backlog: N/4 work orders with a warning and a breach for ack and arrive each, due over the
 * next month (1 to 30 days ahead, in insertion order — timers are scheduled as time goes on).
 */
async function insertSlaBacklog(pool: pg.Pool): Promise<number> {
  const t0 = Date.now();
  const wo = "'q-' || lpad((((g - 1) / 4) + 1)::text, 8, '0')";
  await pool.query(
    `INSERT INTO sla_timer.work_orders (work_order_id, grid_id, policy, escalation, planned_at)
     SELECT 'q-' || lpad(g::text, 8, '0'), 'grid-' || (g % 157), 'fault-rural', '[{"level":1,"afterMs":0,"notify":["supervisor"]}]', now()
       FROM generate_series(1, $1::int) g`,
    [Math.ceil(PENDING / 4)],
  );
  await pool.query(
    `INSERT INTO sla_timer.timers (work_order_id, stage, kind, level, due_at, deadline, grid_id, policy, notify)
     SELECT ${wo},
            CASE WHEN (g - 1) % 4 < 2 THEN 'ack' ELSE 'arrive' END,
            CASE WHEN (g - 1) % 2 = 0 THEN 'warning' ELSE 'breach' END,
            (g - 1) % 2,
            d.t - CASE WHEN (g - 1) % 2 = 0 THEN interval '10 minutes' ELSE interval '0' END,
            d.t, 'grid-' || (((g - 1) / 4 + 1) % 157), 'fault-rural',
            CASE WHEN (g - 1) % 2 = 0 THEN '{}'::text[] ELSE '{supervisor}'::text[] END
       FROM generate_series(1, $1::int) g,
            LATERAL (SELECT now() + interval '1 day' + ((g - 1) / 4) * (interval '29 days' / ($1::int / 4 + 1)) AS t) d`,
    [PENDING],
  );
  await pool.query('ANALYZE sla_timer.timers');
  await pool.query('ANALYZE sla_timer.work_orders');
  return (Date.now() - t0) / 1000;
}

/** The same backlog as pg-boss delayed jobs (its own insert SQL's defaults, its queue's partition). */
async function insertPgBossBacklog(pool: pg.Pool): Promise<number> {
  const t0 = Date.now();
  await pool.query(
    `INSERT INTO pgboss.job (name, data, start_after, keep_until, policy)
     SELECT $1, jsonb_build_object('workOrderId', 'q-' || ((g - 1) / 4 + 1), 'stage', CASE WHEN (g - 1) % 4 < 2 THEN 'ack' ELSE 'arrive' END),
            d.t, d.t + interval '14 days', 'standard'
       FROM generate_series(1, $2::int) g,
            LATERAL (SELECT now() + interval '1 day' + ((g - 1) / 4) * (interval '29 days' / ($2::int / 4 + 1)) AS t) d`,
    [QUEUE, PENDING],
  );
  await pool.query(`ANALYZE pgboss.job`);
  return (Date.now() - t0) / 1000;
}

async function runSlaTimer(pool: pg.Pool, service: SlaTimerHandle, bus: Bus, insertSeconds: number) {
  const { rows: sizeRows } = await pool.query<{ timers: string; work_orders: string }>(
    `SELECT pg_total_relation_size('sla_timer.timers') AS timers, pg_total_relation_size('sla_timer.work_orders') AS work_orders`,
  );
  const tableBytes = Number(sizeRows[0]!.timers);
  const workOrderBytes = Number(sizeRows[0]!.work_orders);
  log(`sla-timer: timers table ${mb(tableBytes)} MB, work_orders ${mb(workOrderBytes)} MB`);

  global.gc?.();
  const memBefore = process.memoryUsage();
  const received = new Map<string, number>();
  await bus.subscribe({
    groupId: 'bench-collector',
    topics: [Topics.slaBreaches],
    handler: async (message) => {
      const at = Date.now();
      const event = parseEvent(message.value);
      if (isEvent(event, 'cn.griddispatch.sla.breached.v1')) received.set(event.data.workOrderId, at);
    },
  });
  await service.start();
  let peakRss = memBefore.rss;
  let peakHeap = memBefore.heapUsed;
  let peakInMemory = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakInMemory = Math.max(peakInMemory, service.inMemoryTimers());
  }, 250);

  // 2. Paced deadlines.
  const pacedStart = Date.now() + LEAD_MS;
  await insertSchedule(pool, 'p-', PACED, pacedStart, 1000 / RATE);
  log(`sla-timer: ${PACED.toLocaleString()} deadlines at ${RATE}/s, the first in ${((pacedStart - Date.now()) / 1000).toFixed(1)} s`);
  await waitFor(() => received.size >= PACED, SECONDS * 1000 + LEAD_MS + 30_000, 'sla-timer paced deadlines');
  const paced = await collect(pool, 'p-', received, (i) => pacedStart + i * (1000 / RATE));
  clearInterval(sampler);

  // 3. Burst.
  const burstAt = Date.now() + LEAD_MS;
  await insertSchedule(pool, 'b-', BURST, burstAt, 0);
  await waitFor(() => [...received.keys()].filter((k) => k.startsWith('b-')).length >= BURST, 60_000, 'sla-timer burst');
  const burst = await collect(pool, 'b-', received, () => burstAt);
  await service.stop();
  await bus.close();
  const { rows: dup } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM sla_timer.timers WHERE state = 'fired'`);
  log(`sla-timer: done (${dup[0]!.n} fired, ${PACED + BURST} scheduled)`);
  return {
    pending: PENDING,
    insertSeconds: Math.round(insertSeconds * 10) / 10,
    tableBytes,
    tableMB: mb(tableBytes),
    workOrdersMB: mb(workOrderBytes),
    memory: {
      rssBeforeStartMB: mb(memBefore.rss),
      rssPeakMB: mb(peakRss),
      heapBeforeStartMB: mb(memBefore.heapUsed),
      heapPeakMB: mb(peakHeap),
      inMemoryTimersPeak: peakInMemory,
    },
    paced,
    burst,
  };
}

/** `count` timers (one work order each), the i-th due at `first + i * stepMs`. */
async function insertSchedule(pool: pg.Pool, prefix: string, count: number, first: number, stepMs: number): Promise<void> {
  await pool.query(
    `INSERT INTO sla_timer.work_orders (work_order_id, grid_id, policy, escalation, planned_at)
     SELECT $1 || g, 'grid-' || (g % 157), 'aquaculture-circle', '[{"level":1,"afterMs":0,"notify":["repair_crew"]}]', now()
       FROM generate_series(0, $2::int - 1) g`,
    [prefix, count],
  );
  await pool.query(
    `INSERT INTO sla_timer.timers (work_order_id, stage, kind, level, due_at, deadline, grid_id, policy, notify)
     SELECT $1 || g, 'arrive', 'breach', 1, d.t, d.t, 'grid-' || (g % 157), 'aquaculture-circle', '{repair_crew}'
       FROM generate_series(0, $2::int - 1) g,
            LATERAL (SELECT to_timestamp(($3::float8 + g * $4::float8) / 1000) AS t) d`,
    [prefix, count, first, stepMs],
  );
}

async function collect(pool: pg.Pool, prefix: string, received: Map<string, number>, dueOf: (i: number) => number) {
  const { rows } = await pool.query<{ id: string; fired_ms: number; due_ms: number }>(
    `SELECT work_order_id AS id, extract(epoch FROM fired_at) * 1000 AS fired_ms, extract(epoch FROM due_at) * 1000 AS due_ms
       FROM sla_timer.timers WHERE work_order_id LIKE $1 || '%' AND state = 'fired'`,
    [prefix],
  );
  const fired = rows.map((r) => Number(r.fired_ms) - Number(r.due_ms));
  // Where in the schedule the slow ones were: seconds after the first deadline with any timer
  // fired more than 100 ms late, and the worst lateness in that second.
  const slowSeconds: Record<string, number> = {};
  const firstDue = Math.min(...rows.map((r) => Number(r.due_ms)));
  for (const r of rows) {
    const late = Number(r.fired_ms) - Number(r.due_ms);
    if (late <= 100) continue;
    const second = String(Math.floor((Number(r.due_ms) - firstDue) / 1000));
    slowSeconds[second] = Math.max(slowSeconds[second] ?? 0, Math.round(late));
  }
  const delivered: number[] = [];
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const [id, at] of received) {
    if (!id.startsWith(prefix)) continue;
    const due = dueOf(Number(id.slice(prefix.length)));
    delivered.push(at - due);
    first = Math.min(first, due);
    last = Math.max(last, at);
  }
  return {
    timers: rows.length,
    fired: lateness(fired),
    delivered: lateness(delivered),
    early: fired.filter((x) => x < 0).length,
    perSecond: Math.round(delivered.length / Math.max(0.001, (last - first) / 1000)),
    slowSeconds,
  };
}

// ---------------------------------------------------------------------------------------------
// pg-boss 10.3.2

async function runPgBoss(pool: pg.Pool, insertSeconds: number) {
  const boss = new PgBoss({ connectionString: dbUrl, schema: 'pgboss', max: 10, schedule: false });
  boss.on('error', (err: Error) => logger.error({ err }, 'pg-boss error'));
  await boss.start();
  const { rows: part } = await pool.query<{ partition_name: string }>(`SELECT partition_name FROM pgboss.queue WHERE name = $1`, [QUEUE]);
  const { rows: sizeRows } = await pool.query<{ n: string }>(`SELECT pg_total_relation_size($1::regclass) AS n`, [`pgboss.${part[0]!.partition_name}`]);
  const tableBytes = Number(sizeRows[0]!.n);
  log(`pg-boss: job partition ${mb(tableBytes)} MB`);

  const received = new Map<string, number>();
  await boss.work<{ id: string; due: number }>(QUEUE, { pollingIntervalSeconds: 0.5, batchSize: 1000 }, async (jobs) => {
    const at = Date.now();
    for (const job of jobs) received.set(job.data.id, at);
  });

  const schedule = async (prefix: string, count: number, first: number, stepMs: number) => {
    for (let from = 0; from < count; from += 5000) {
      const jobs: PgBoss.JobInsert<{ id: string; due: number }>[] = [];
      for (let i = from; i < Math.min(count, from + 5000); i++) {
        const due = first + i * stepMs;
        jobs.push({ name: QUEUE, data: { id: `${prefix}${i}`, due }, startAfter: new Date(due).toISOString() });
      }
      await boss.insert(jobs);
    }
  };
  const summarize = (prefix: string, dueOf: (i: number) => number) => {
    const values: number[] = [];
    let first = Number.POSITIVE_INFINITY;
    let last = 0;
    for (const [id, at] of received) {
      if (!id.startsWith(prefix)) continue;
      const due = dueOf(Number(id.slice(prefix.length)));
      values.push(at - due);
      first = Math.min(first, due);
      last = Math.max(last, at);
    }
    return {
      jobs: values.length,
      delivered: lateness(values),
      early: values.filter((x) => x < 0).length,
      perSecond: Math.round(values.length / Math.max(0.001, (last - first) / 1000)),
    };
  };

  const pacedStart = Date.now() + LEAD_MS;
  await schedule('p-', PACED, pacedStart, 1000 / RATE);
  log(`pg-boss: ${PACED.toLocaleString()} deadlines at ${RATE}/s, the first in ${((pacedStart - Date.now()) / 1000).toFixed(1)} s`);
  await waitFor(() => [...received.keys()].filter((k) => k.startsWith('p-')).length >= PACED, SECONDS * 1000 + LEAD_MS + 30_000, 'pg-boss paced jobs');
  const paced = summarize('p-', (i) => pacedStart + i * (1000 / RATE));

  const burstAt = Date.now() + LEAD_MS;
  await schedule('b-', BURST, burstAt, 0);
  await waitFor(() => [...received.keys()].filter((k) => k.startsWith('b-')).length >= BURST, 60_000, 'pg-boss burst');
  const burst = summarize('b-', () => burstAt);
  await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
  log('pg-boss: done');
  return { pending: PENDING, insertSeconds: Math.round(insertSeconds * 10) / 10, tableBytes, tableMB: mb(tableBytes), paced, burst };
}

// ---------------------------------------------------------------------------------------------

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null);

// The bound: a machine too busy to finish in time gets a clear failure, not a run that drags on.
const BUDGET_MS = Number(process.env.BENCH_SLA_BUDGET_MS ?? 200_000);
setTimeout(() => {
  console.error(`bench/sla-timer.ts: over ${BUDGET_MS / 1000} s — try a smaller --scale; dropping ${dbName}`);
  onServer(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).finally(() => process.exit(1));
}, BUDGET_MS).unref();

await onServer(`CREATE DATABASE "${dbName}"`);
const pool = new pg.Pool({ connectionString: dbUrl, max: 10 });
try {
  // Both schemas, then both backlogs side by side (setup only: nothing is measured meanwhile).
  const bus: Bus = createInProcessBus({ prefix: `bench.${dbName}.`, logger });
  const service = await buildSlaTimer({
    pool,
    bus,
    logger,
    policy: DEFAULT_POLICY,
    config: { slaPolicyPath: undefined, pollIntervalMs: 2_000, lookaheadMs: 60_000, batchSize: 500, lateAfterMs: 10_000 },
  });
  const installer = new PgBoss({ connectionString: dbUrl, schema: 'pgboss', max: 2, schedule: false, supervise: false });
  await installer.start();
  await installer.createQueue(QUEUE);
  await installer.stop({ graceful: true, wait: true });
  log(`inserting ${PENDING.toLocaleString()} pending timers and as many pg-boss delayed jobs (side by side)`);
  const [ourInsert, bossInsert] = await Promise.all([insertSlaBacklog(pool), insertPgBossBacklog(pool)]);
  log(`backlogs in ${ourInsert.toFixed(1)} s (sla-timer) and ${bossInsert.toFixed(1)} s (pg-boss)`);
  const ours = await runSlaTimer(pool, service, bus, ourInsert);
  const boss = await runPgBoss(pool, bossInsert);
  const { rows: v } = await pool.query<{ server_version: string }>('SHOW server_version');
  const result = {
    benchmark: 'sla-timer firing vs pg-boss delayed jobs',
    at: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    postgres: v[0]!.server_version,
    parameters: {
      pending: PENDING,
      ratePerSecond: RATE,
      seconds: SECONDS,
      paced: PACED,
      burst: BURST,
      pgBoss: { version: '10.3.2', pollingIntervalSeconds: 0.5, batchSize: 1000 },
    },
    slaTimer: ours,
    pgBoss: boss,
    ratios: {
      note: 'pg-boss ÷ sla-timer: above 1 means pg-boss is later (lateness) or sla-timer is slower (throughput: sla-timer ÷ pg-boss)',
      pacedLatenessP50: ratio(boss.paced.delivered.p50Ms, ours.paced.delivered.p50Ms),
      pacedLatenessP99: ratio(boss.paced.delivered.p99Ms, ours.paced.delivered.p99Ms),
      pacedLatenessMax: ratio(boss.paced.delivered.maxMs, ours.paced.delivered.maxMs),
      pacedThroughput: ratio(ours.paced.perSecond, boss.paced.perSecond),
      burstThroughput: ratio(ours.burst.perSecond, boss.burst.perSecond),
      burstLatenessMax: ratio(boss.burst.delivered.maxMs, ours.burst.delivered.maxMs),
      tableSize: ratio(boss.tableBytes, ours.tableBytes),
    },
    totalSeconds: Math.round((Date.now() - started) / 100) / 10,
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/sla-timer.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);

  const row = (name: string, l: Lateness) =>
    `${name.padEnd(34)} p50 ${String(l.p50Ms).padStart(8)} ms  p99 ${String(l.p99Ms).padStart(8)} ms  max ${String(l.maxMs).padStart(8)} ms`;
  console.log(`\n${PENDING.toLocaleString()} pending; ${PACED.toLocaleString()} deadlines at ${RATE}/s; burst of ${BURST.toLocaleString()}`);
  console.log(`sla-timer table ${ours.tableMB} MB (+ work_orders ${ours.workOrdersMB} MB); pg-boss job partition ${boss.tableMB} MB`);
  console.log(
    `scheduler process RSS ${ours.memory.rssBeforeStartMB} → peak ${ours.memory.rssPeakMB} MB, heap peak ${ours.memory.heapPeakMB} MB, ${ours.memory.inMemoryTimersPeak} due times in memory at most`,
  );
  console.log(row('sla-timer paced, fired (commit)', ours.paced.fired));
  console.log(row('sla-timer paced, delivered (bus)', ours.paced.delivered));
  console.log(row('pg-boss paced, handler', boss.paced.delivered));
  console.log(row('sla-timer burst, delivered', ours.burst.delivered));
  console.log(row('pg-boss burst, handler', boss.burst.delivered));
  console.log(`throughput paced ${ours.paced.perSecond}/s vs ${boss.paced.perSecond}/s; burst ${ours.burst.perSecond}/s vs ${boss.burst.perSecond}/s`);
  console.log(`ratios (pg-boss ÷ sla-timer lateness; sla-timer ÷ pg-boss throughput): ${JSON.stringify(result.ratios)}`);
  console.log(`total ${result.totalSeconds} s → bench/results/sla-timer.json`);
} finally {
  await pool.end();
  await onServer(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
}
