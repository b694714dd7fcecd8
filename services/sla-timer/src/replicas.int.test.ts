import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '@griddispatch/sla';
import { createTestInProcessBus, freshDatabase, testGroupId, waitForIdle, type FreshDatabase } from '@griddispatch/testkit';
import type { Bus } from '@griddispatch/bus';
import { createPool, type Pool } from '@griddispatch/db';
import { buildSlaTimer, type SlaTimerHandle } from './app.ts';
import { collectSlaEvents, FakeClock, silentLogger, testConfig } from './testing/harness.ts';

// Two sla-timer replicas, each with its own connection pool, on one real PostgreSQL, competing
// for the same due timers: every timer fires exactly once.

const policy = parsePolicy({ rules: [{ name: 'default', match: {}, windows: { ack: '10m' } }] });
const N = 500;

let db: FreshDatabase;
let secondPool: Pool;
let bus: Bus;

beforeAll(async () => {
  db = await freshDatabase('sla_replicas');
  secondPool = createPool(db.url, { max: 10, logger: silentLogger });
  bus = createTestInProcessBus();
});
afterAll(async () => {
  await bus?.close();
  await secondPool?.end();
  await db?.drop();
});

/** N work orders with one due breach each, written straight into the table (as after a backlog). */
async function insertDueTimers(prefix: string, firstDue: Date, spreadMs: number): Promise<void> {
  await db.pool.query(
    `INSERT INTO sla_timer.work_orders (work_order_id, grid_id, policy, escalation, planned_at)
     SELECT $1 || g, 'grid-' || (g % 7), 'default', '[{"level":1,"afterMs":0,"notify":["manager"]}]', now()
       FROM generate_series(1, $2::int) g`,
    [prefix, N],
  );
  await db.pool.query(
    `INSERT INTO sla_timer.timers (work_order_id, stage, kind, level, due_at, deadline, grid_id, policy, notify)
     SELECT $1 || g, 'ack', 'breach', 1, t, t, 'grid-' || (g % 7), 'default', '{manager}'
       FROM generate_series(1, $2::int) g, LATERAL (SELECT $3::timestamptz + (g * $4::float8 / $2::int) * interval '1 ms' AS t) d`,
    [prefix, N, firstDue, spreadMs],
  );
}

async function replicas(opts: {
  timers: 'auto' | 'manual';
  now?: () => Date;
  batchSize: number;
  pollIntervalMs: number;
}): Promise<[SlaTimerHandle, SlaTimerHandle]> {
  const groupId = testGroupId('sla-timer');
  const make = (pool: Pool) =>
    buildSlaTimer({
      pool,
      bus,
      logger: silentLogger,
      policy,
      groupId,
      timers: opts.timers,
      config: testConfig({ batchSize: opts.batchSize, pollIntervalMs: opts.pollIntervalMs, lookaheadMs: 30_000 }),
      ...(opts.now ? { now: opts.now } : {}),
    });
  const a = await make(db.pool);
  const b = await make(secondPool);
  await Promise.all([a.start(), b.start()]);
  return [a, b];
}

describe('two replicas', () => {
  it('claiming in small batches side by side, fire each of 500 due timers exactly once', async () => {
    const clock = new FakeClock(Date.parse('2026-03-10T02:00:00.000Z'));
    const collector = await collectSlaEvents(bus);
    const [a, b] = await replicas({ timers: 'manual', now: clock.now, batchSize: 10, pollIntervalMs: 1000 });
    await insertDueTimers('m-', new Date(clock.now().getTime() - 60_000), 50_000);

    const [fromA, fromB] = await Promise.all([a.tick(), b.tick()]);
    await Promise.all([a.drained(), b.drained()]);
    await waitForIdle(bus);

    const ids = [...fromA.fired, ...fromB.fired].map((f) => f.workOrderId);
    expect(ids).toHaveLength(N);
    expect(new Set(ids).size).toBe(N);
    // Both took part (batches of 10 interleave); neither fired anything the other did.
    expect(fromA.fired.length).toBeGreaterThan(0);
    expect(fromB.fired.length).toBeGreaterThan(0);
    const published = collector.events.map((e) => e.data.workOrderId);
    expect(published).toHaveLength(N);
    expect(new Set(published).size).toBe(N);
    const { rows } = await db.pool.query<{ state: string; n: string }>(
      `SELECT state, count(*) AS n FROM sla_timer.timers WHERE work_order_id LIKE 'm-%' GROUP BY state`,
    );
    expect(rows).toEqual([{ state: 'fired', n: String(N) }]);

    await collector.subscription.stop();
    await Promise.all([a.stop(), b.stop()]);
  });

  it('running on their own, fire 500 timers due over one second exactly once and on time', async () => {
    const collector = await collectSlaEvents(bus);
    const [a, b] = await replicas({ timers: 'auto', batchSize: 50, pollIntervalMs: 100 });
    const firstDue = new Date(Date.now() + 1500);
    await insertDueTimers('r-', firstDue, 1000);

    const deadline = Date.now() + 20_000;
    while (collector.events.length < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500)); // room for a double fire to show up
    await waitForIdle(bus);

    const published = collector.events.filter((e) => e.data.workOrderId.startsWith('r-'));
    expect(published).toHaveLength(N);
    expect(new Set(published.map((e) => e.data.workOrderId)).size).toBe(N);
    const { rows } = await db.pool.query<{ max_ms: number; p50_ms: number }>(
      `SELECT max(extract(epoch FROM fired_at - due_at) * 1000)::float8 AS max_ms,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM fired_at - due_at) * 1000)::float8 AS p50_ms
         FROM sla_timer.timers WHERE work_order_id LIKE 'r-%'`,
    );
    // Never early; prompt (a loose bound: two cores shared with the whole team).
    const { rows: early } = await db.pool.query(`SELECT 1 FROM sla_timer.timers WHERE work_order_id LIKE 'r-%' AND fired_at < due_at`);
    expect(early).toHaveLength(0);
    expect(rows[0]!.p50_ms).toBeLessThan(250);
    expect(rows[0]!.max_ms).toBeLessThan(2000);
    for (const e of published) expect(e.data.late).toBe(false);

    await collector.subscription.stop();
    await Promise.all([a.stop(), b.stop()]);
  });
});
