import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Topics } from '@griddispatch/contracts';
import { parsePolicy } from '@griddispatch/sla';
import { createTestInProcessBus } from '@griddispatch/testkit';
import { assignedEvent, publish, startHarness, type Emitted, type Harness } from './testing/harness.ts';

// Outages (docs/architecture.md#incidents): the primary work order of an incident carries its
// clocks; a merged call (a later call of the same incident) gets none, and its own work-order
// events change nothing. Real PostgreSQL, in-process bus, a clock the test moves.

const S = 1000;
const T0 = new Date('2026-03-10T02:00:00.000Z');

const policy = parsePolicy({
  rules: [
    {
      name: 'fault',
      match: {},
      windows: { ack: '60s', arrive: '5m' },
      warnBefore: '30s',
      escalation: [{ after: '0s', notify: ['repair_crew'] }],
    },
  ],
});

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ bus: createTestInProcessBus(), policy, start: T0 });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  await h.db.pool.query(`UPDATE sla_timer.timers SET state = 'cancelled', due_at = COALESCE(due_at, deadline) WHERE state IN ('pending', 'paused')`);
  h.clock.set(T0);
  h.events.splice(0);
});

const timersOf = async (workOrderIds: string[]) =>
  (await h.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sla_timer.timers WHERE work_order_id = ANY($1)`, [workOrderIds])).rows[0]!.n;

const rowOf = async (workOrderId: string) =>
  (
    await h.db.pool.query<{ role: string | null; status: string; policy: string | null; satisfied: string[]; paused_at: Date | null; planned_at: Date | null }>(
      `SELECT role, status, policy, satisfied, paused_at, planned_at FROM sla_timer.work_orders WHERE work_order_id = $1`,
      [workOrderId],
    )
  ).rows[0];

const brief = (events: Emitted[]) => events.map((e) => `${e.topic === 'sla.warnings' ? 'warning' : 'breach'} ${e.data.stage} ${e.data.workOrderId}`).sort();

describe('incidents: primary and merged work orders', () => {
  it('times the primary as any work order; merged calls get no plan and no timers, and never warn or breach', async () => {
    const incident = randomUUID();
    const primary = await h.assign({ openedAt: T0, incident: { id: incident, role: 'primary' } });
    const merged = [];
    for (let size = 2; size <= 4; size++)
      merged.push(await h.assign({ openedAt: new Date(T0.getTime() + size * S), incident: { id: incident, role: 'merged', size } }));
    const mergedIds = merged.map((e) => e.data.workOrderId);

    expect(await timersOf([primary.data.workOrderId])).toBe(4); // ack and arrive: a warning and a breach each
    expect(await rowOf(primary.data.workOrderId)).toMatchObject({ role: 'primary', status: 'active', policy: 'fault' });
    expect(await timersOf(mergedIds)).toBe(0);
    for (const id of mergedIds) expect(await rowOf(id)).toMatchObject({ role: 'merged', status: 'stopped', policy: null, planned_at: expect.any(Date) });
    // Recorded as applied: the inbox holds every merged dispatch.
    const inbox = await h.db.pool.query(`SELECT 1 FROM sla_timer.inbox WHERE event_id = ANY($1)`, [merged.map((e) => e.id)]);
    expect(inbox.rowCount).toBe(3);

    const fired = [...(await h.advance(30 * S)), ...(await h.advance(30 * S))];
    expect(brief(fired)).toEqual([`breach ack ${primary.data.workOrderId}`, `warning ack ${primary.data.workOrderId}`]);
  });

  it('a redelivered or repeated merged dispatch adds nothing, and neither does a later primary dispatch of it', async () => {
    const incident = randomUUID();
    const merged = await h.assign({ openedAt: T0, incident: { id: incident, role: 'merged', size: 2 } });
    await publish(h.bus, Topics.dispatchAssigned, merged.data.grid.id, merged);
    await h.settle();
    const again = assignedEvent(policy, { workOrderId: merged.data.workOrderId, openedAt: T0, incident: { id: incident, role: 'primary' } });
    await publish(h.bus, Topics.dispatchAssigned, again.data.grid.id, again);
    await h.settle();
    expect(await timersOf([merged.data.workOrderId])).toBe(0);
    expect(await rowOf(merged.data.workOrderId)).toMatchObject({ role: 'merged', status: 'stopped' });
    expect(await h.advance(10 * 60 * S)).toEqual([]);
  });

  it("a merged work order's own events change nothing: no stage satisfied, no pause, no clocks", async () => {
    const merged = await h.assign({ openedAt: T0, incident: { id: randomUUID(), role: 'merged', size: 5 } });
    const id = merged.data.workOrderId;
    const before = await rowOf(id);
    for (const type of ['acknowledged', 'suspended', 'resumed', 'arrived', 'resolved', 'closed'] as const) await h.update(id, type);
    expect(await rowOf(id)).toEqual(before);
    expect(await timersOf([id])).toBe(0);
  });

  it('an event that overtook the merged dispatch still leaves it without clocks', async () => {
    const workOrderId = randomUUID();
    await h.update(workOrderId, 'acknowledged');
    await h.assign({ workOrderId, openedAt: T0, incident: { id: randomUUID(), role: 'merged', size: 2 } });
    expect(await timersOf([workOrderId])).toBe(0);
    expect(await rowOf(workOrderId)).toMatchObject({ role: 'merged', status: 'stopped' });
    expect(await h.advance(10 * 60 * S)).toEqual([]);
  });

  it('a work order in no incident is timed as before (no role)', async () => {
    const plain = await h.assign({ openedAt: T0 });
    expect(await rowOf(plain.data.workOrderId)).toMatchObject({ role: null, status: 'active' });
    expect(await timersOf([plain.data.workOrderId])).toBe(4);
  });
});
