// pnpm bench:reports [--scale S] [--keep] — the reports on a year of a province (issue 15).
//
// A fresh database on the PostgreSQL server at DATABASE_URL; grid-routing's schema by its own
// migrations; the sample county ×100 as the province's grid set (a copy per county: grids with
// outlines, 台区, feeders), 50–550 customers per 台区; then, made by PostgreSQL (bench/reports/
// generate.ts), 100,000 top-level incidents (8 % feeder incidents with their 台区 incidents under
// them; three storm days) and 10,000,000 timed work orders over 2025 (with their monthly rollup). Then grid-routing's report
// routes over real HTTP (its Fastify host on 127.0.0.1, a key, JSON), each grouping called again
// and again: p50 / p99 / max. Target (issue 15): p99 ≤ 1 s for a year by grid.
// --scale multiplies the volumes (0.01: 100,000 work orders, 1,000 incidents, 2 county copies —
// a smoke run of a minute). Writes bench/results/reports-<time>.json and reports-latest.json.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { createInProcessBus } from '@griddispatch/bus';
import { createPool } from '@griddispatch/db';
import { buildGridRouting, loadConfig, loadSampleData } from '@griddispatch/grid-routing';
import { buildHttpHost } from '@griddispatch/http';
import { generateIncidents, generateWorkOrders, prepareDistricts } from './generate.ts';

const { values: args } = parseArgs({ options: { scale: { type: 'string', default: '1' }, keep: { type: 'boolean', default: false } } });
const SCALE = Number(args.scale);
if (!(SCALE > 0 && SCALE <= 1)) throw new Error(`--scale must be in (0, 1], got ${args.scale}`);
const REQUESTS = Math.round(10_000_000 * SCALE);
const INCIDENTS = Math.round(100_000 * SCALE);
const COUNTIES = Math.max(2, Math.round(100 * SCALE));
const KEY = 'bench-reports-secret-000000000001';
const TARGET_P99_MS = 1000;

const runId = randomBytes(3).toString('hex');
const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dbName = `bench_reports_${runId}`;
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const log = (msg: string) => process.stdout.write(`[${elapsed()}] ${msg}\n`);

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: server });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const YEAR = { from: '2025-01-01T00:00:00+08:00', to: '2026-01-01T00:00:00+08:00' };
const year = `from=${encodeURIComponent(YEAR.from)}&to=${encodeURIComponent(YEAR.to)}`;
/** The groupings measured, each through its route, as many calls as the time allows. */
const GROUPINGS = [
  { name: 'reliability, year by grid', path: `/v1/reports/reliability?${year}&groupBy=grid`, calls: 40, target: TARGET_P99_MS },
  { name: 'reliability, year by feeder', path: `/v1/reports/reliability?${year}&groupBy=feeder`, calls: 20 },
  { name: 'reliability, month by grid (12 points)', path: `/v1/reports/reliability/series?${year}&groupBy=grid&interval=month`, calls: 10 },
  {
    name: 'reliability, one month by grid',
    path: `/v1/reports/reliability?from=${encodeURIComponent('2025-07-01T00:00:00+08:00')}&to=${encodeURIComponent('2025-08-01T00:00:00+08:00')}&groupBy=grid`,
    calls: 20,
  },
  { name: 'response, year by grid', path: `/v1/reports/response?${year}&groupBy=grid`, calls: 10 },
  { name: 'response, year by grid and category', path: `/v1/reports/response?${year}&groupBy=grid_category`, calls: 10 },
  // Not whole months: read from the rows, not the monthly rollup.
  {
    name: 'response, 7 days by grid (from the rows)',
    path: `/v1/reports/response?from=${encodeURIComponent('2025-07-01T00:00:00+08:00')}&to=${encodeURIComponent('2025-07-08T00:00:00+08:00')}&groupBy=grid`,
    calls: 10,
  },
] as const;

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
const ms = (v: number) => Math.round(v * 10) / 10;

async function main(): Promise<void> {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  log(
    `bench:reports scale ${SCALE}: ${REQUESTS.toLocaleString('en')} work orders, ${INCIDENTS.toLocaleString('en')} incidents, sample county ×${COUNTIES}; database ${dbName}`,
  );
  await admin(`CREATE DATABASE ${dbName}`);
  const url = new URL(server);
  url.pathname = `/${dbName}`;
  const pool = createPool(url.toString(), { max: 10, applicationName: 'bench-reports', logger });
  const bus = createInProcessBus({ prefix: `bench.reports.${runId}.`, logger });
  try {
    const timings: Record<string, number> = {};
    let t = performance.now();
    await loadSampleData(pool, { scale: COUNTIES, customerScale: 1, logger });
    const shape = await prepareDistricts(pool);
    timings.gridsMs = performance.now() - t;
    log(`grid set: ${shape.grids} grids, ${shape.districts} 台区, ${shape.feeders} feeders, ${shape.customers.toLocaleString('en')} customers`);

    t = performance.now();
    await generateIncidents(pool, INCIDENTS, (done) => {
      if (done % 20_000 === 0 || done === INCIDENTS) log(`incidents ${done.toLocaleString('en')} / ${INCIDENTS.toLocaleString('en')}`);
    });
    timings.incidentsMs = performance.now() - t;
    t = performance.now();
    await generateWorkOrders(pool, REQUESTS, (done) => log(`work orders ${done.toLocaleString('en')} / ${REQUESTS.toLocaleString('en')}`));
    log('work orders: indexes and the monthly rollup built');
    timings.workOrdersMs = performance.now() - t;
    t = performance.now();
    await pool.query('VACUUM (ANALYZE) routing.incidents, routing.work_order_times, routing.work_order_months, routing.districts, routing.district_customers');
    timings.vacuumMs = performance.now() - t;
    const { rows: sizes } = await pool.query<{ incidents: number; top: number; work_orders: number; bytes: string }>(
      `SELECT (SELECT count(*) FROM routing.incidents)::int AS incidents, (SELECT count(*) FROM routing.incidents WHERE parent_id IS NULL)::int AS top,
              (SELECT count(*) FROM routing.work_order_times)::int AS work_orders,
              pg_size_pretty(pg_total_relation_size('routing.incidents') + pg_total_relation_size('routing.work_order_times')) AS bytes`,
    );
    log(
      `data ready: ${sizes[0]!.top.toLocaleString('en')} top-level incidents (${sizes[0]!.incidents.toLocaleString('en')} rows), ${sizes[0]!.work_orders.toLocaleString('en')} work orders, ${sizes[0]!.bytes} with indexes`,
    );

    // grid-routing's routes on its own Fastify host (no consumers: nothing else writes meanwhile).
    const service = await buildGridRouting({ pool, bus, logger, config: loadConfig({}) });
    const host = await buildHttpHost({ pool, logger, services: [service], apiKeys: `bench:${KEY}:requests:read`, rateLimit: false });
    const base = await host.listen({ port: 0, host: '127.0.0.1' });
    const results = [];
    try {
      for (const g of GROUPINGS) {
        const call = async () => {
          const t0 = performance.now();
          const res = await fetch(`${base}${g.path}`, { headers: { authorization: `Bearer ${KEY}` } });
          const body = (await res.json()) as { rows?: unknown[]; series?: unknown[] };
          if (res.status !== 200) throw new Error(`${g.path}: ${res.status} ${JSON.stringify(body)}`);
          return { ms: performance.now() - t0, rows: body.rows?.length ?? body.series?.length ?? 0 };
        };
        const first = await call(); // cold-ish: the first call of this grouping, kept apart
        const samples: number[] = [];
        let rows = first.rows;
        for (let i = 0; i < g.calls; i++) {
          const r = await call();
          samples.push(r.ms);
          rows = r.rows;
        }
        const sorted = [...samples].sort((a, b) => a - b);
        const result = {
          grouping: g.name,
          path: g.path,
          calls: samples.length,
          rows,
          firstMs: ms(first.ms),
          p50Ms: ms(quantile(sorted, 0.5)),
          p99Ms: ms(quantile(sorted, 0.99)),
          maxMs: ms(sorted.at(-1)!),
          ...('target' in g ? { targetP99Ms: g.target, met: quantile(sorted, 0.99) <= g.target } : {}),
        };
        results.push(result);
        log(
          `${g.name.padEnd(40)} ${String(rows).padStart(5)} rows  p50 ${String(result.p50Ms).padStart(8)} ms  p99 ${String(result.p99Ms).padStart(8)} ms  max ${String(result.maxMs).padStart(8)} ms  (first ${result.firstMs} ms, ${samples.length} calls)${'met' in result ? (result.met ? '  ✓ target p99 ≤ 1 s' : '  ✗ target p99 ≤ 1 s MISSED') : ''}`,
        );
      }
    } finally {
      await host.close();
      await service.stop();
    }

    const out = {
      bench: 'reports',
      at: new Date().toISOString(),
      scale: SCALE,
      volumes: { workOrders: sizes[0]!.work_orders, topLevelIncidents: sizes[0]!.top, incidentRows: sizes[0]!.incidents, ...shape, storage: sizes[0]!.bytes },
      setupMs: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])),
      results,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryGb: Math.round(totalmem() / 2 ** 30),
        loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
        node: process.version,
      },
    };
    const dir = join(import.meta.dirname, '..', 'results');
    mkdirSync(dir, { recursive: true });
    const stamp = out.at.replace(/[:.]/g, '-');
    writeFileSync(join(dir, `reports-${stamp}.json`), `${JSON.stringify(out, null, 2)}\n`);
    if (SCALE === 1) writeFileSync(join(dir, 'reports-latest.json'), `${JSON.stringify(out, null, 2)}\n`);
    log(`wrote bench/results/reports-${stamp}.json${SCALE === 1 ? ' and reports-latest.json' : ''}`);
  } finally {
    await pool.end();
    await bus.close();
    if (!args.keep) await admin(`DROP DATABASE ${dbName}`);
    else log(`kept database ${dbName}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
