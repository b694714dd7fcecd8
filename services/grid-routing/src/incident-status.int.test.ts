import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildEvent, serializeEvent, Topics, type CloudEvent, type WorkOrderEventType } from '@griddispatch/contracts';
import { withTransaction } from '@griddispatch/db';
import { workOrderUpdatedConsumer } from './consumers/workorder-updated.ts';
import { at, closeAllIncidents, fault, importFeederDistricts, incidentEventsOf, routingContext, shortType } from './testing/incident-fixture.ts';
import { assigned, requestEvent, silentLogger, startHarness, type Harness } from './testing/harness.ts';
import { getIncident, markRestorationConfirmed } from './use-cases/incidents.ts';

// Rule 3: an incident follows its primary work order (workorders.events), feeder parents and
// their children restore each other; against a real PostgreSQL.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await importFeederDistricts(h.db.pool);
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  await closeAllIncidents(h);
});

function workOrderEvent(workOrderId: string, type: WorkOrderEventType, local: string): CloudEvent<'cn.griddispatch.workorder.updated.v1'> {
  return buildEvent({
    type: 'cn.griddispatch.workorder.updated.v1',
    source: 'intake',
    subject: workOrderId,
    data: {
      workOrderId,
      type,
      at: at(local),
      previousStatus: 'assigned',
      status: type === 'en_route' || type === 'arrived' || type === 'resolved' || type === 'closed' ? type : 'assigned',
      gridId: null,
    },
  });
}

async function publish(...events: CloudEvent<'cn.griddispatch.workorder.updated.v1'>[]): Promise<void> {
  await h.bus.publish(
    Topics.workordersEvents,
    events.map((e) => ({ key: e.data.workOrderId, value: serializeEvent(e) })),
  );
  await h.settle();
}

const incident = async (id: string) => (await getIncident(h.db.pool, id))!;

describe('an incident follows its primary work order', () => {
  it('en_route, arrived, resolved → restored, closed; a merged work order and redeliveries change nothing; the next call opens a new incident', async () => {
    const [p, m] = (await h.send(fault('2026-12-14T10:00:00', 'TQ-003'), fault('2026-12-14T10:01:00', 'TQ-003'))).map(assigned);
    const id = p!.incidentId!;
    await publish(workOrderEvent(p!.workOrderId, 'en_route', '2026-12-14T10:10:00'));
    expect((await incident(id)).status).toBe('en_route');
    await publish(workOrderEvent(p!.workOrderId, 'arrived', '2026-12-14T10:30:00'), workOrderEvent(m!.workOrderId, 'resolved', '2026-12-14T10:31:00'));
    expect((await incident(id)).status).toBe('arrived');

    const resolved = workOrderEvent(p!.workOrderId, 'resolved', '2026-12-14T11:00:00');
    await publish(resolved);
    expect(await incident(id)).toMatchObject({
      status: 'restored',
      restoredAt: new Date(at('2026-12-14T11:00:00')).toISOString(),
      restorationUnconfirmed: false,
    });
    const count = incidentEventsOf(h, id).length;
    await publish(
      resolved,
      workOrderEvent(p!.workOrderId, 'resolved', '2026-12-14T11:05:00'),
      workOrderEvent(p!.workOrderId, 'arrived', '2026-12-14T11:06:00'),
    );
    expect(incidentEventsOf(h, id)).toHaveLength(count);

    await publish(workOrderEvent(p!.workOrderId, 'closed', '2026-12-14T12:00:00'));
    expect(incidentEventsOf(h, id).map(shortType)).toEqual(['opened', 'updated', 'updated', 'restored', 'closed']);
    expect(incidentEventsOf(h, id).map((e) => e.data.status)).toEqual(['dispatched', 'en_route', 'arrived', 'restored', 'closed']);
    // Rule 8: the merged call's count was not told alone; it rode with the next change.
    expect(incidentEventsOf(h, id).map((e) => e.data.callCount)).toEqual([1, 2, 2, 2, 2]);

    const [next] = (await h.send(fault('2026-12-14T12:10:00', 'TQ-003'))).map(assigned);
    expect(next?.incidentId).not.toBe(id);
    expect(next?.role).toBe('primary');
  });

  it('resolved while its meters still report off → restorationUnconfirmed, until the meters confirm it', async () => {
    const [p] = (await h.send(fault('2026-12-15T10:00:00', 'TQ-004'))).map(assigned);
    const consumer = workOrderUpdatedConsumer({ pool: h.db.pool, logger: silentLogger(), ctx: routingContext(h.db.pool), metersStillOff: async () => true });
    const event = workOrderEvent(p!.workOrderId, 'resolved', '2026-12-15T11:00:00');
    await consumer.handler({
      topic: Topics.workordersEvents,
      key: p!.workOrderId,
      value: Buffer.from(serializeEvent(event)),
      headers: {},
      partition: 0,
      offset: '0',
      attempt: 1,
    });
    expect(await incident(p!.incidentId!)).toMatchObject({ status: 'restored', restorationUnconfirmed: true });
    await withTransaction(h.db.pool, (client) => markRestorationConfirmed(routingContext(h.db.pool), client, p!.incidentId!, new Date()));
    await h.settle();
    expect(await incident(p!.incidentId!)).toMatchObject({ status: 'restored', restorationUnconfirmed: false });
    expect(incidentEventsOf(h, p!.incidentId!).at(-1)?.data).toMatchObject({ change: 'meters', restorationUnconfirmed: false });
  });
});

describe('feeder incidents and their children', () => {
  async function nestThree(day: string) {
    const calls = (await h.send(fault(`${day}T10:00:00`, 'TQ-001'), fault(`${day}T10:01:00`, 'TQ-002'), fault(`${day}T10:02:00`, 'TQ-005'))).map(assigned);
    const parentId = (await incident(calls[0]!.incidentId!)).parentId!;
    expect(parentId).toBeTruthy();
    return { calls, parentId };
  }

  it('a child is restored by its own crew before the parent; the last child restored restores the parent', async () => {
    const { calls, parentId } = await nestThree('2026-12-16');
    await publish(workOrderEvent(calls[0]!.workOrderId, 'resolved', '2026-12-16T11:00:00'));
    expect((await incident(calls[0]!.incidentId!)).status).toBe('restored');
    expect((await incident(parentId)).status).toBe('open');
    await publish(
      workOrderEvent(calls[1]!.workOrderId, 'resolved', '2026-12-16T11:10:00'),
      workOrderEvent(calls[2]!.workOrderId, 'resolved', '2026-12-16T11:20:00'),
    );
    expect(await incident(parentId)).toMatchObject({ status: 'restored', restoredAt: new Date(at('2026-12-16T11:20:00')).toISOString() });
    expect(incidentEventsOf(h, parentId).map(shortType).at(-1)).toBe('restored');
  });

  it('the parent’s own work order carries the crew: its children without a primary follow it, and restoring it restores every open child', async () => {
    const { calls, parentId } = await nestThree('2026-12-17');
    const own = requestEvent({ receivedAt: at('2026-12-17T10:03:00'), source: 'grid-dispatch', location: { districtCode: 'TQ-001' }, incidentId: parentId });
    const [wo] = (await h.send(own)).map(assigned);
    expect(wo).toMatchObject({ incidentId: parentId, role: 'primary' });
    const [late] = (await h.send(fault('2026-12-17T10:05:00', 'TQ-006'))).map(assigned);
    expect(late?.role).toBe('merged');
    const childId = late!.incidentId!;
    expect(await incident(childId)).toMatchObject({ parentId, primaryRequestId: null });

    await publish(workOrderEvent(own.data.id, 'en_route', '2026-12-17T10:20:00'));
    expect((await incident(parentId)).status).toBe('en_route');
    expect((await incident(childId)).status).toBe('en_route');
    // A child with a crew of its own keeps its own status.
    expect((await incident(calls[0]!.incidentId!)).status).toBe('dispatched');

    await publish(workOrderEvent(own.data.id, 'resolved', '2026-12-17T12:00:00'));
    for (const id of [parentId, childId, ...calls.map((c) => c.incidentId!)]) expect((await incident(id)).status).toBe('restored');
    expect(incidentEventsOf(h, childId).map(shortType).at(-1)).toBe('restored');
  });
});
