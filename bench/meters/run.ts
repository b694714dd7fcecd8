// pnpm bench:meters — a feeder storm seen by the meters (主动抢修, docs/architecture.md#incidents rule 6).
//
// 50,000 power_off events from the meters of 10 feeders of the sample county (×2, accounts ×3)
// are POSTed to /v1/meter-events in 50 batches of 1,000 within 10 s (open loop: batch i leaves at
// i × 200 ms whatever the server answered) against the embedded stack — the four services in one
// process (@griddispatch/cli/stack), the in-process bus, a fresh database on the PostgreSQL
// server at DATABASE_URL. The meters of those feeders number fewer than 50,000; the rest are
// last gasps sent again by the head-end (new event ids, the meter already off).
//
// It waits until every affected 台区 is in exactly one open incident, nested under exactly one
// open feeder incident per feeder, and prints the time from the first POST to that moment ("time
// to last incident"), the events/s intake accepted and the events/s grid-routing applied
// (routing.meter_events + meter_event_noops), and writes bench/results/meters-<time>.json and
// meters-latest.json.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { pino } from 'pino';
import { createInProcessBus } from '@griddispatch/bus';
import { buildStack } from '@griddispatch/cli/stack';
import { feederTripEvents, inBatches, type MeterEventItem } from '@griddispatch/cli/simulate-feeder-trip';
import { createPool } from '@griddispatch/db';
import { generateSampleCounty } from '@griddispatch/grid';
import { loadSampleData } from '@griddispatch/grid-routing';
import { parseHttpEnv } from '@griddispatch/http';

const EVENTS = Number(process.env.BENCH_METERS_EVENTS ?? 50_000);
const FEEDERS = 10;
const SEND_MS = 10_000;
const WAIT_MS = Number(process.env.BENCH_METERS_WAIT_MS ?? 180_000);
const COUNTY = { scale: 2, customerScale: 3, seed: 1 } as const;
const KEY = 'bench-meters-secret-0000000000001';

const runId = randomBytes(3).toString('hex');
const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dbName = `bench_meters_${runId}`;

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: server });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function pickEvents(now: Date): { feeders: string[]; districts: string[]; events: MeterEventItem[]; meters: number } {
  const county = generateSampleCounty(COUNTY);
  const perFeeder = new Map<string, number>();
  const feederOf = new Map(county.districts.map((d) => [d.code, d.feederCode]));
  for (const c of county.customers) perFeeder.set(feederOf.get(c.districtCode)!, (perFeeder.get(feederOf.get(c.districtCode)!) ?? 0) + 1);
  const feeders = [...perFeeder.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, FEEDERS)
    .map(([f]) => f)
    .sort();
  const trips = feeders.flatMap((f) => feederTripEvents(county, f, now, `bench-${runId}`));
  const meters = trips.length;
  // Interleave the feeders as a head-end would (every feeder gasps at once), then pad with resent gasps.
  const events: MeterEventItem[] = [...trips].sort((a, b) => (a.meterId < b.meterId ? -1 : 1));
  for (let i = 0; events.length < EVENTS; i++) {
    const e = trips[i % trips.length]!;
    events.push({ ...e, eventId: `${e.eventId}-again-${Math.floor(i / trips.length)}`, at: new Date(Date.parse(e.at) + 1000).toISOString() });
  }
  const districts = [...new Set(trips.map((e) => e.districtCode))].sort();
  return { feeders, districts, events: events.slice(0, EVENTS), meters };
}

interface Check {
  applied: number;
  openDistrictIncidents: number;
  districtsInOne: number;
  nestedFeeders: number;
  nestedChildren: number;
}

async function check(pool: pg.Pool, districts: string[], feeders: string[]): Promise<Check> {
  const { rows } = await pool.query<Check>(
    `SELECT (SELECT count(*) FROM routing.meter_events)::int + (SELECT count(*) FROM routing.meter_event_noops WHERE reason <> 'storm_single_customer')::int AS applied,
            (SELECT count(*) FROM routing.incidents WHERE kind = 'district' AND status NOT IN ('restored', 'closed') AND district_code = ANY($1))::int AS "openDistrictIncidents",
            (SELECT count(*) FROM (SELECT district_code FROM routing.incidents WHERE kind = 'district' AND status NOT IN ('restored', 'closed') AND district_code = ANY($1)
                                   GROUP BY district_code HAVING count(*) = 1) x)::int AS "districtsInOne",
            (SELECT count(*) FROM routing.incidents WHERE kind = 'feeder' AND status NOT IN ('restored', 'closed') AND feeder_code = ANY($2))::int AS "nestedFeeders",
            (SELECT count(*) FROM routing.incidents c JOIN routing.incidents p ON p.id = c.parent_id AND p.kind = 'feeder' AND p.feeder_code = c.feeder_code
              WHERE c.kind = 'district' AND c.status NOT IN ('restored', 'closed') AND c.district_code = ANY($1))::int AS "nestedChildren"`,
    [districts, feeders],
  );
  return rows[0]!;
}

async function main(): Promise<void> {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  await adminQuery(`CREATE DATABASE ${dbName}`);
  const url = new URL(server);
  url.pathname = `/${dbName}`;
  const pool = createPool(url.toString(), { max: 20, applicationName: 'bench-meters', logger });
  const bus = createInProcessBus({ prefix: `bench.meters.${runId}.`, logger });
  let stopStack: (() => Promise<void>) | undefined;
  try {
    const setup = performance.now();
    await loadSampleData(pool, COUNTY);
    const stack = await buildStack({
      pool,
      bus,
      logger,
      http: parseHttpEnv({ GD_API_KEYS: `bench:${KEY}:requests:write+requests:read`, GD_RATE_LIMIT_MAX: '0' }),
    });
    stopStack = () => stack.stop();
    await stack.host.listen({ port: 0, host: '127.0.0.1' });
    const port = (stack.host.server.address() as { port: number }).port;
    const { feeders, districts, events, meters } = pickEvents(new Date());
    const batches = inBatches(events);
    console.log(
      `bench:meters: stack up in ${((performance.now() - setup) / 1000).toFixed(1)}s; ${events.length} power_off events (${meters} meters, the rest resent) on ${districts.length} 台区 of ${feeders.length} feeders: ${feeders.join(', ')}`,
    );

    const post = async (batch: MeterEventItem[]) => {
      const t = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/v1/meter-events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify({ source: 'bench-amr', events: batch }),
      });
      const body = (await res.json()) as { accepted?: number };
      return { status: res.status, accepted: body.accepted ?? 0, ms: performance.now() - t, doneAt: performance.now() };
    };
    const start = performance.now();
    const interval = SEND_MS / batches.length;
    const answers = batches.map(async (batch, i) => {
      await new Promise((r) => setTimeout(r, Math.max(0, start + i * interval - performance.now())));
      return post(batch);
    });

    let last: Check | undefined;
    let incidentsAt: number | undefined;
    let appliedAt: number | undefined;
    let lastPrint = 0;
    while (performance.now() - start < WAIT_MS) {
      last = await check(pool, districts, feeders);
      const now = performance.now();
      if (appliedAt === undefined && last.applied >= events.length) appliedAt = now;
      const complete =
        last.districtsInOne === districts.length &&
        last.openDistrictIncidents === districts.length &&
        last.nestedFeeders === feeders.length &&
        last.nestedChildren === districts.length;
      if (incidentsAt === undefined && complete) incidentsAt = now;
      if (now - lastPrint > 1000) {
        lastPrint = now;
        console.log(
          `  ${((now - start) / 1000).toFixed(1)}s: applied ${last.applied}/${events.length}, 台区 in one incident ${last.districtsInOne}/${districts.length}, feeder incidents ${last.nestedFeeders}/${feeders.length}, nested ${last.nestedChildren}`,
        );
      }
      if (incidentsAt !== undefined && appliedAt !== undefined) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const posted = await Promise.all(answers);
    const acceptedAt = Math.max(...posted.map((p) => p.doneAt));
    const accepted = posted.reduce((n, p) => n + p.accepted, 0);
    const latencies = posted.map((p) => p.ms).sort((a, b) => a - b);
    const { rows: outcomes } = await pool.query<{ outcome: string; n: number }>(
      `SELECT outcome, count(*)::int AS n FROM routing.meter_events GROUP BY 1 UNION ALL SELECT 'noop_' || reason, count(*)::int FROM routing.meter_event_noops GROUP BY 1 ORDER BY 1`,
    );
    const secs = (t: number | undefined) => (t === undefined ? null : Math.round((t - start) / 10) / 100);
    const result = {
      bench: 'meters',
      time: new Date().toISOString(),
      machine: { cpus: cpus().length, loadavg: loadavg() },
      setup: {
        mode: 'embedded stack (4 services, in-process bus) on the PostgreSQL server at DATABASE_URL',
        county: COUNTY,
        feeders,
        districts: districts.length,
        meters,
      },
      load: {
        events: events.length,
        posts: batches.length,
        batchSize: 1000,
        sendWindowS: SEND_MS / 1000,
        statuses: Object.fromEntries([...new Set(posted.map((p) => p.status))].map((s) => [s, posted.filter((p) => p.status === s).length])),
      },
      results: {
        acceptedEvents: accepted,
        lastAcceptedS: secs(acceptedAt),
        intakeEventsPerSecond: Math.round(accepted / ((acceptedAt - start) / 1000)),
        postLatencyMs: { p50: Math.round(latencies[Math.floor(latencies.length / 2)]!), max: Math.round(latencies.at(-1)!) },
        allAppliedS: secs(appliedAt),
        routingEventsPerSecond: appliedAt === undefined ? null : Math.round(events.length / ((appliedAt - start) / 1000)),
        timeToLastIncidentS: secs(incidentsAt),
        final: last,
        outcomes: Object.fromEntries(outcomes.map((o) => [o.outcome, o.n])),
      },
    };
    console.log(
      incidentsAt === undefined
        ? `bench:meters: NOT every 台区 in one nested incident after ${WAIT_MS / 1000}s: ${JSON.stringify(last)}`
        : `bench:meters: time to last incident ${result.results.timeToLastIncidentS}s (${districts.length} 台区 incidents under ${feeders.length} feeder incidents); intake accepted ${accepted} events at ${result.results.intakeEventsPerSecond}/s; grid-routing applied ${events.length} at ${result.results.routingEventsPerSecond}/s (all by ${result.results.allAppliedS}s)`,
    );
    const dir = join(import.meta.dirname, '..', 'results');
    mkdirSync(dir, { recursive: true });
    const text = `${JSON.stringify(result, null, 2)}\n`;
    writeFileSync(join(dir, `meters-${result.time.replace(/[:.]/g, '-')}.json`), text);
    writeFileSync(join(dir, 'meters-latest.json'), text);
    if (incidentsAt === undefined) process.exitCode = 1;
  } finally {
    await stopStack?.();
    await bus.close();
    await pool.end();
    await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  }
}

await main();
