import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '@griddispatch/contracts';
import type { InboxConsumer, Pool, PoolClient } from '@griddispatch/db';
import { EventTypeName } from '@griddispatch/contracts';
import {
  assignedData,
  assignedEvent,
  breachedData,
  breachedEvent,
  incidentData,
  incidentEvent,
  updatedData,
  updatedEvent,
  warningData,
  warningEvent,
} from '../testing/fixtures.ts';
import { startHarness, subscribe, type Harness } from '../testing/harness.ts';
import { consumerDeps, messagesOf } from '../testing/batch.ts';
import { dispatchAssignedConsumer } from './dispatch-assigned.ts';
import { incidentEventConsumer } from './incident-event.ts';
import { slaBreachedConsumer } from './sla-breached.ts';
import { slaWarningConsumer } from './sla-warning.ts';
import { workOrderUpdatedConsumer } from './workorder-updated.ts';

// How many statements a batch of the busiest consumers costs (issue 12): the consumers run on a
// pool whose clients count their queries (BEGIN and COMMIT included), over one batch of N events
// as the bus hands it over. The counts are printed (`statements per event`) and held to a bound,
// so a change that puts a statement back into the per-event path fails here.

const N = 200;

let h: Harness;
let statements = 0;
let counting: Pool;
beforeAll(async () => {
  h = await startHarness();
  counting = countingPool(h.db.pool, () => statements++);
});
afterAll(async () => h?.close());

function countingPool(pool: Pool, count: () => void): Pool {
  const wrap = (client: PoolClient): PoolClient =>
    new Proxy(client, {
      get(target, prop, receiver) {
        if (prop === 'query') {
          return (...args: unknown[]) => {
            count();
            return (target.query as (...a: unknown[]) => unknown)(...args);
          };
        }
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  return new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === 'connect') return async () => wrap(await target.connect());
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function count(consumer: InboxConsumer, events: CloudEvent[]): Promise<number> {
  statements = 0;
  await consumer.batchHandler(messagesOf(events));
  return statements;
}

async function deliveries(eventIds: string[]): Promise<number> {
  const { rows } = await h.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM notification.deliveries WHERE event_id = ANY($1::text[])', [eventIds]);
  return rows[0]?.n ?? 0;
}

/** 200 dispatches over 20 grids, each the primary of its own incident, one assignee with a phone; every 4th a merged call of the one before. */
function dispatches(): CloudEvent[] {
  const events: CloudEvent[] = [];
  let incident = randomUUID();
  for (let i = 0; i < N; i++) {
    const merged = i % 4 === 3;
    if (!merged) incident = randomUUID();
    const base = assignedData();
    events.push(
      assignedEvent(
        assignedData({
          grid: { ...base.grid, id: `HH-G${String(i % 20).padStart(2, '0')}` },
          incidentId: incident,
          role: merged ? 'merged' : 'primary',
        }),
      ),
    );
  }
  return events;
}

describe('statements per batch', () => {
  it('dispatch.assigned', async () => {
    await subscribe(h, { url: h.webhook.url, events: ['dispatch.assigned'] });
    const consumer = dispatchAssignedConsumer(consumerDeps(h, counting));
    const events = dispatches();
    const total = await count(consumer, events);
    console.log(`dispatch.assigned: ${total} statements for ${N} events, ${(total / N).toFixed(2)} per event`);
    // A fixed number per batch (issue 12), whatever its size: 1,503 before.
    expect(total).toBeLessThanOrEqual(12);
    // Staff SMS with code + robot card per primary; the webhook for every event.
    expect(await deliveries(events.map((e) => e.id))).toBe(150 * 2 + N);
    const again = await count(consumer, events);
    console.log(`dispatch.assigned redelivered: ${again} statements`);
    expect(again).toBe(3);
    expect(await deliveries(events.map((e) => e.id))).toBe(150 * 2 + N);
    const one = await count(consumer, dispatches().slice(0, 1));
    console.log(`dispatch.assigned, a batch of one: ${one} statements`);
    expect(one).toBeLessThanOrEqual(12);
  });

  it('sla.warning and sla.breached', async () => {
    const consumer = dispatchAssignedConsumer(consumerDeps(h, counting));
    const assigned = dispatches();
    await consumer.batchHandler(messagesOf(assigned));
    const workOrders = assigned.map((e) => (e.data as { workOrderId: string }).workOrderId);
    const warnings = workOrders.map((id) => warningEvent(warningData(id)));
    const warned = await count(slaWarningConsumer(consumerDeps(h, counting)), warnings);
    console.log(`sla.warning: ${warned} statements for ${N} events, ${(warned / N).toFixed(2)} per event`);
    const breaches = workOrders.map((id) => breachedEvent(breachedData(id, { level: 2, notify: ['supervisor'] })));
    const breached = await count(slaBreachedConsumer(consumerDeps(h, counting)), breaches);
    console.log(`sla.breached: ${breached} statements for ${N} events, ${(breached / N).toFixed(2)} per event`);
    // Staff hear of each incident's stage once: 150 incidents, an SMS and a card each.
    expect(await deliveries(warnings.map((e) => e.id))).toBe(150 * 2);
    expect(await deliveries(breaches.map((e) => e.id))).toBe(150 * 2);
    // 553 and 553 before issue 12.
    expect(warned).toBeLessThanOrEqual(6);
    expect(breached).toBeLessThanOrEqual(6);
  });

  it('incidents.events', async () => {
    await subscribe(h, { url: h.webhook.url, events: ['incident.opened', 'incident.updated'] });
    // 200 incidents of 20 grids whose people are known (the dispatches above), every 10th a feeder's opening.
    const events = Array.from({ length: N }, (_, i) =>
      incidentEvent(
        i % 2 === 0 ? EventTypeName.incidentOpened : EventTypeName.incidentUpdated,
        incidentData({ gridId: `HH-G${String(i % 20).padStart(2, '0')}`, kind: i % 10 === 0 ? 'feeder' : 'district' }),
      ),
    );
    const total = await count(incidentEventConsumer(consumerDeps(h, counting)), events);
    console.log(`incidents.events: ${total} statements for ${N} events, ${(total / N).toFixed(2)} per event`);
    // Each to its subscriber; each feeder's opening to its grid's repair crew (SMS) and group (card).
    expect(await deliveries(events.map((e) => e.id))).toBe(N + 20 * 2);
    expect(total).toBeLessThanOrEqual(6);
  });

  it('workorders.events (per event: its codes expired, its work order looked up; deliveries once per batch)', async () => {
    await subscribe(h, { url: h.webhook.url, events: ['workorder.updated'] });
    const assigned = dispatches();
    await dispatchAssignedConsumer(consumerDeps(h, counting)).batchHandler(messagesOf(assigned));
    const updates = assigned.map((e) => updatedEvent(updatedData((e.data as { workOrderId: string }).workOrderId)));
    const total = await count(workOrderUpdatedConsumer(consumerDeps(h, counting)), updates);
    console.log(`workorders.events: ${total} statements for ${N} events, ${(total / N).toFixed(2)} per event`);
    expect(await deliveries(updates.map((e) => e.id))).toBe(N);
    expect(total).toBeLessThanOrEqual(2 * N + 4);
  });
});
