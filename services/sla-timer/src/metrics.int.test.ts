import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topics } from '@griddispatch/contracts';
import { loadRetentionConfig, startRetention } from '@griddispatch/db';
import { buildHttpHost } from '@griddispatch/http';
import { DEFAULT_POLICY } from '@griddispatch/sla';
import { createTestInProcessBus, freshDatabase, testGroupId, waitForIdle, type FreshDatabase } from '@griddispatch/testkit';
import type { Bus } from '@griddispatch/bus';
import { buildSlaTimer, type SlaTimerHandle } from './app.ts';
import { slaTimerRetention } from './retention.ts';
import { assignedEvent, FakeClock, publish, silentLogger, testConfig, workOrderEvent } from './testing/harness.ts';

/** Prometheus' key: /metrics needs the metrics:read scope. */
const SCRAPER = 'prometheus-scraper-0123456789';

// What an operator reads on sla-timer's /metrics — pending timers by kind, timers fired, the
// outbox while the relay is away — and what the retention sweeper takes: finished work orders'
// timers only.

const DAY = 86_400_000;
const START = new Date('2026-11-23T02:00:00Z');
let db: FreshDatabase;
let bus: Bus;
let clock: FakeClock;
let service: SlaTimerHandle;
let app: FastifyInstance;
const groupId = testGroupId('sla-timer');

beforeAll(async () => {
  db = await freshDatabase('sla_metrics');
  bus = createTestInProcessBus();
  clock = new FakeClock(START.getTime());
  service = await buildSlaTimer({
    pool: db.pool,
    bus,
    logger: silentLogger,
    config: testConfig(),
    policy: DEFAULT_POLICY,
    now: clock.now,
    timers: 'manual',
    groupId,
  });
  app = await buildHttpHost({ pool: db.pool, logger: silentLogger, services: [service], rateLimit: false, apiKeys: `prometheus:${SCRAPER}:metrics:read` });
  await service.start();
});
afterAll(async () => {
  await app?.close();
  await service?.stop();
  await bus?.close();
  await db?.drop();
});

async function scrape(): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${SCRAPER}` } });
  expect(res.statusCode).toBe(200);
  return res.body;
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function pendingInDb(kind: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM sla_timer.timers WHERE state = 'pending' AND kind = $1", [kind]);
  return rows[0]!.n;
}

const workOrders: string[] = [];

describe('sla-timer /metrics', () => {
  it('counts pending timers by kind as scheduled, with consumer lag per topic', async () => {
    let stages = 0;
    for (let i = 0; i < 3; i += 1) {
      const event = assignedEvent(DEFAULT_POLICY, { openedAt: clock.now() });
      stages += Object.keys(event.data.sla.deadlines).length;
      workOrders.push(event.data.workOrderId);
      await publish(bus, Topics.dispatchAssigned, event.data.grid.id, event);
    }
    await waitForIdle(bus);

    const text = await scrape();
    // A breach per stage deadline, the warnings the policy asks for; escalations appear only
    // once a breach fires.
    expect(value(text, 'griddispatch_sla_timers_pending{kind="breach"}')).toBe(stages);
    expect(value(text, 'griddispatch_sla_timers_pending{kind="warning"}')).toBe(await pendingInDb('warning'));
    expect(await pendingInDb('warning')).toBeGreaterThan(0);
    expect(value(text, 'griddispatch_sla_timers_pending{kind="escalation"}')).toBe(0);
    for (const topic of [Topics.dispatchAssigned, Topics.workordersEvents]) {
      expect(value(text, `griddispatch_consumer_lag{service="sla-timer",group="${groupId}",topic="${topic}"}`)).toBe(0);
    }
    expect(value(text, 'griddispatch_consumer_lag_available{service="sla-timer"}')).toBe(1);
    expect(value(text, 'griddispatch_outbox_backlog{service="sla-timer"}')).toBe(0);
  });

  it('shows fired timers, and the outbox backlog while the relay is stopped, then 0', async () => {
    const pendingBefore = { warning: await pendingInDb('warning'), breach: await pendingInDb('breach') };
    await service.stop();
    // Past the first warning of each work order (the earliest stage deadline minus warnBefore).
    const { rows } = await db.pool.query<{ due: Date }>("SELECT min(due_at) AS due FROM sla_timer.timers WHERE state = 'pending'");
    clock.set(new Date(rows[0]!.due.getTime() + 1_000));
    const { fired } = await service.tick();
    expect(fired.length).toBeGreaterThanOrEqual(3);

    const stopped = await scrape();
    expect(value(stopped, 'griddispatch_outbox_backlog{service="sla-timer"}')).toBe(fired.length);
    expect(value(stopped, 'griddispatch_outbox_oldest_seconds{service="sla-timer"}')).toBeGreaterThanOrEqual(0);
    for (const kind of ['warning', 'breach'] as const) {
      const n = fired.filter((f) => f.kind === kind).length;
      if (n > 0) expect(value(stopped, `griddispatch_sla_timers_fired_total{kind="${kind}",late="false"}`)).toBe(n);
      expect(value(stopped, `griddispatch_sla_timers_pending{kind="${kind}"}`)).toBe(pendingBefore[kind] - n);
    }
    // Not subscribed while stopped: no lag series claims the group is keeping up.
    expect(stopped).not.toMatch(/^griddispatch_consumer_lag\{service="sla-timer"/m);

    await service.start();
    await service.drained();
    expect(value(await scrape(), 'griddispatch_outbox_backlog{service="sla-timer"}')).toBe(0);
  });
});

describe('sla-timer retention', () => {
  it('deletes a cancelled work order and its timers once old; active work orders keep every timer', async () => {
    const [cancelled, ...active] = workOrders as [string, ...string[]];
    await publish(bus, Topics.workordersEvents, cancelled, workOrderEvent(cancelled, 'cancelled', clock.now()));
    await waitForIdle(bus);
    const timersOf = async (ids: string[]) => {
      const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sla_timer.timers WHERE work_order_id = ANY ($1)', [ids]);
      return rows[0]!.n;
    };
    const cancelledTimers = await timersOf([cancelled]);
    const activeTimers = await timersOf(active);
    expect(cancelledTimers).toBeGreaterThan(0);
    const pendingBefore = await pendingInDb('breach');

    const config = loadRetentionConfig({});
    const at = (ms: number) =>
      startRetention({ pool: db.pool, schema: 'sla_timer', tables: slaTimerRetention(config), intervalMs: 0, now: () => new Date(clock.now().getTime() + ms) });
    const early = at(29 * DAY);
    expect((await early.sweep()).deleted.work_orders).toBe(0);
    await early.stop();

    const late = at(31 * DAY);
    const { deleted } = await late.sweep();
    await late.stop();
    expect(deleted.work_orders).toBe(1);
    expect(deleted.timers).toBe(cancelledTimers);
    expect(await timersOf([cancelled])).toBe(0);
    expect(await timersOf(active)).toBe(activeTimers);
    expect(await pendingInDb('breach')).toBe(pendingBefore);
    const { rows } = await db.pool.query<{ id: string }>('SELECT work_order_id AS id FROM sla_timer.work_orders ORDER BY 1');
    expect(rows.map((r) => r.id)).toEqual([...active].sort());
  });
});
