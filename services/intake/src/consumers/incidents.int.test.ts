import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEvent, parseEvent, RequestReceivedV1, RequestView, serializeEvent, type CloudEvent } from '@griddispatch/contracts';
import { assignedData, incidentData, requestBody, startHarness, type Harness } from '../testing/harness.ts';

// The read model follows incidents.events (docs/architecture.md#incidents): the newest incident snapshot, role and
// ETR on the work orders, merged work orders following their incident, and the work order of
// an incident nobody called about. Events are published here as grid-routing would.

let clock = new Date('2026-11-23T11:00:00.000Z');
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ now: () => clock, record: ['requests.received', 'workorders.events'] });
});
afterAll(async () => {
  await h?.close();
});

async function newRequest(over: Record<string, unknown> = {}): Promise<string> {
  clock = new Date(clock.getTime() + 1000);
  const res = await h.post('/v1/requests', requestBody(over));
  expect(res.statusCode).toBe(202);
  return res.json().id;
}

async function view(id: string): Promise<RequestView> {
  return RequestView.parse((await h.get(`/v1/requests/${id}`)).json());
}

async function redeliver(event: CloudEvent): Promise<void> {
  await h.bus.publish('incidents.events', [{ key: event.subject, value: serializeEvent(event) }]);
}

async function snapshot(id: string): Promise<{ status: string; etr: Date; call_count: number } | undefined> {
  const { rows } = await h.db.pool.query<{ status: string; etr: Date; call_count: number }>(
    'SELECT status, etr, call_count FROM intake.incidents WHERE id = $1',
    [id],
  );
  return rows[0];
}

const at = (minutes: number) => new Date(Date.parse('2026-11-23T11:00:00.000Z') + minutes * 60_000).toISOString();

describe('incidents in the read model', () => {
  it('shows role and ETR: the one routing carried until the incident is heard, then the incident’s current one', async () => {
    const primary = await newRequest();
    const merged = await newRequest();
    const inc = 'inc-etr-1';
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id: primary }, { incidentId: inc, role: 'primary', etr: at(120) }));
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id: merged }, { incidentId: inc, role: 'merged', etr: at(120), incidentSize: 2 }));
    await h.settle();
    expect(await view(merged)).toMatchObject({ incidentId: inc, role: 'merged', etr: at(120), status: 'assigned' });
    expect(await view(primary)).toMatchObject({ incidentId: inc, role: 'primary', etr: at(120) });

    // A hand-set ETR on the incident reaches every work order of it, in the list too.
    const manual = await h.emit(
      'cn.griddispatch.incident.updated.v1',
      incidentData({
        id: inc,
        status: 'dispatched',
        primaryRequestId: primary,
        callCount: 2,
        etr: at(90),
        etrSource: 'manual',
        updatedAt: at(5),
        change: 'etr',
      }),
    );
    await h.settle();
    expect((await view(merged)).etr).toBe(at(90));
    expect((await view(primary)).etr).toBe(at(90));
    const listed = (await h.get('/v1/requests?limit=50')).json().items as { id: string; role: string; etr: string }[];
    expect(listed.find((r) => r.id === merged)).toMatchObject({ role: 'merged', etr: at(90) });

    // An older snapshot (overtaken, or sent again under another id) changes nothing; a redelivery neither.
    await h.emit(
      'cn.griddispatch.incident.updated.v1',
      incidentData({ id: inc, status: 'dispatched', primaryRequestId: primary, callCount: 1, etr: at(120), updatedAt: at(2), change: 'calls' }),
    );
    await redeliver(manual);
    await h.settle();
    expect(await snapshot(inc)).toMatchObject({ status: 'dispatched', call_count: 2, etr: new Date(at(90)) });
    expect((await view(merged)).etr).toBe(at(90));

    // A call routed after the incident was heard shows the incident's ETR, not the one it carried.
    const late = await newRequest();
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id: late }, { incidentId: inc, role: 'merged', etr: at(120) }));
    await h.settle();
    expect((await view(late)).etr).toBe(at(90));

    // A request in no incident: both null.
    const alone = await newRequest();
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id: alone }));
    await h.settle();
    expect(await view(alone)).toMatchObject({ incidentId: null, role: null, etr: null });
  });

  it('moves merged work orders with their incident, forward only, to resolved on restored — without workorders.events', async () => {
    const primary = await newRequest();
    const merged = await newRequest();
    const inc = 'inc-follow-1';
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id: primary }, { incidentId: inc, role: 'primary', etr: at(120) }), {
      time: new Date(at(1)),
    });
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id: merged }, { incidentId: inc, role: 'merged', etr: at(120) }), {
      time: new Date(at(2)),
    });
    await h.settle();
    const base = { id: inc, primaryRequestId: primary, callCount: 2 };
    await h.emit('cn.griddispatch.incident.updated.v1', incidentData({ ...base, status: 'en_route', updatedAt: at(10), change: 'status' }));
    await h.settle();
    expect((await view(merged)).status).toBe('en_route');
    // The primary is moved by its crew's field events, not by the incident.
    expect((await view(primary)).status).toBe('assigned');

    const restored = await h.emit(
      'cn.griddispatch.incident.restored.v1',
      incidentData({ ...base, status: 'restored', restoredAt: at(40), updatedAt: at(40), change: 'status' }),
    );
    // Overtaken: an older "arrived" after "restored" does not move anything back.
    await h.emit('cn.griddispatch.incident.updated.v1', incidentData({ ...base, status: 'arrived', updatedAt: at(30), change: 'status' }));
    await redeliver(restored);
    await h.settle();
    const v = await view(merged);
    expect(v.status).toBe('resolved');
    // Restored: the caller is asked to confirm (回访), once, however often the restoration is heard.
    expect(v.timeline.map((t) => t.type)).toEqual(['request.received', 'dispatch.assigned', 'incident.en_route', 'incident.restored', 'callback.asked']);
    expect(v.timeline.find((t) => t.type === 'incident.restored')).toMatchObject({ at: at(40), note: `follows incident ${inc}` });
    expect(v.callback).toMatchObject({ reply: null, satisfaction: null });
    expect((await snapshot(inc))?.status).toBe('restored');

    // A call routed to the incident after it was restored is resolved at once.
    const late = await newRequest();
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id: late }, { incidentId: inc, role: 'merged' }));
    await h.settle();
    expect((await view(late)).status).toBe('resolved');

    await h.emit('cn.griddispatch.incident.closed.v1', incidentData({ ...base, status: 'closed', restoredAt: at(40), updatedAt: at(60), change: 'status' }));
    await h.settle();
    expect((await view(merged)).status).toBe('closed');
    expect((await view(late)).status).toBe('closed');
    // Nothing of this went out on workorders.events: sla-timer and notification hear of the incident itself.
    const published = (h.published.get('workorders.events') ?? []).map((m) => parseEvent(m.value).subject);
    expect(published).not.toContain(merged);
    expect(published).not.toContain(late);
  });

  it('applies a storm batch of assignments as one by one: merged calls catch up, a re-routing wins, unknown and cancelled ones stay', async () => {
    const inc = 'inc-batch-1';
    const primary = await newRequest();
    const merged = [];
    for (let i = 0; i < 12; i++) merged.push(await newRequest());
    const rerouted = await newRequest();
    const cancelled = await newRequest();
    expect((await h.post(`/v1/work-orders/${cancelled}/events`, { type: 'cancelled' }, 'field-app-secret-000001')).statusCode).toBe(200);
    await h.emit(
      'cn.griddispatch.incident.updated.v1',
      incidentData({ id: inc, primaryRequestId: primary, status: 'en_route', etr: at(200), updatedAt: at(5), change: 'status' }),
    );
    await h.settle();

    // One publish: the in-process bus hands the consumer these records as one batch.
    const event = (data: ReturnType<typeof assignedData>, minute: number) =>
      buildEvent({ type: 'cn.griddispatch.dispatch.assigned.v1', source: 'grid-routing', subject: data.workOrderId, data, time: new Date(at(minute)) });
    const batch = [
      event(assignedData({ id: primary }, { incidentId: inc, role: 'primary', etr: at(120), areaId: 'area-batch-1' }), 1),
      ...merged.map((id) => event(assignedData({ id }, { incidentId: inc, role: 'merged', etr: at(120) }), 2)),
      event(assignedData({ id: rerouted }, { gridId: 'grid-first', gridName: '先到网格' }), 2),
      event(assignedData({ id: rerouted }, { gridId: 'grid-second', gridName: '后到网格', areaId: 'area-batch-1' }), 3),
      event(assignedData({ id: cancelled }), 2),
      event(assignedData({ id: '7a6c1f4e-0000-4222-8333-944455556666' }), 2),
    ];
    await h.bus.publish(
      'dispatch.assigned',
      batch.map((e) => ({ key: e.subject, value: serializeEvent(e) })),
    );
    await h.settle();

    const p = await view(primary);
    expect(p).toMatchObject({ status: 'assigned', incidentId: inc, role: 'primary', etr: at(200) });
    for (const id of merged) {
      const v = await view(id);
      expect(v.status).toBe('en_route');
      expect(v).toMatchObject({ incidentId: inc, role: 'merged', etr: at(200) });
      expect(v.timeline.map((t) => t.type)).toEqual(['request.received', 'dispatch.assigned', 'incident.en_route']);
      expect(v.timeline.at(-1)).toMatchObject({ at: at(5), note: `follows incident ${inc}` });
    }
    const r = await view(rerouted);
    expect(r).toMatchObject({ status: 'assigned', grid: { id: 'grid-second', name: '后到网格' } });
    expect(r.timeline.filter((t) => t.type === 'dispatch.assigned')).toHaveLength(2);
    expect((await view(cancelled)).status).toBe('cancelled');
    const { rows } = await h.db.pool.query('SELECT area_id FROM intake.grid_areas WHERE grid_id = ANY($1)', [[p.grid?.id, 'grid-second']]);
    expect(rows).toEqual([{ area_id: 'area-batch-1' }, { area_id: 'area-batch-1' }]);

    // Delivered again, the whole batch changes nothing.
    await h.bus.publish(
      'dispatch.assigned',
      batch.map((e) => ({ key: e.subject, value: serializeEvent(e) })),
    );
    await h.settle();
    expect((await view(merged[0]!)).timeline).toHaveLength(3);
    expect(await view(rerouted)).toEqual(r);
  });

  it('opens the work order of an incident without a call once, however often its opening is delivered', async () => {
    const inc = 'inc-meter-1';
    const opened = await h.emit(
      'cn.griddispatch.incident.opened.v1',
      incidentData({ id: inc, origin: 'meter', urgency: 'urgent', callCount: 0, etr: at(150) }),
    );
    await redeliver(opened);
    // The same opening published again under another event id (a replay): still one work order.
    await h.emit('cn.griddispatch.incident.opened.v1', incidentData({ id: inc, origin: 'meter', urgency: 'urgent', callCount: 0, etr: at(150) }));
    // Incidents that have a work order, or need none: a call opened it, it nests under a feeder
    // incident, or it is a planned outage.
    await h.emit('cn.griddispatch.incident.opened.v1', incidentData({ id: 'inc-call-1', primaryRequestId: '7a6c1f4e-1111-4222-8333-944455556666' }));
    await h.emit('cn.griddispatch.incident.opened.v1', incidentData({ id: 'inc-child-1', origin: 'meter', parentId: 'inc-feeder-1' }));
    await h.emit('cn.griddispatch.incident.opened.v1', incidentData({ id: 'inc-planned-1', origin: 'planned', etrSource: 'planned', plannedOutageId: 'po-1' }));
    await h.settle();

    const { rows } = await h.db.pool.query<{ id: string; external_id: string }>("SELECT id, external_id FROM intake.requests WHERE source = 'grid-dispatch'");
    expect(rows.map((r) => r.external_id)).toEqual([`incident:${inc}`]);
    const id = rows[0]!.id;
    expect(await view(id)).toMatchObject({
      source: 'grid-dispatch',
      externalId: `incident:${inc}`,
      category: 'fault_repair',
      status: 'received',
      incidentId: inc,
      etr: at(150),
    });
    const received = (h.published.get('requests.received') ?? [])
      .map((m) => RequestReceivedV1.parse(parseEvent(m.value).data))
      .filter((d) => d.source === 'grid-dispatch');
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      id,
      externalId: `incident:${inc}`,
      category: 'fault_repair',
      urgency: 'urgent',
      location: { districtCode: 'HH-TQ-017' },
      incidentId: inc,
    });

    // A feeder incident is opened without a call too: its work order carries the crew.
    await h.emit(
      'cn.griddispatch.incident.opened.v1',
      incidentData({ id: 'inc-feeder-1', kind: 'feeder', districtCodes: ['HH-TQ-017', 'HH-TQ-018', 'HH-TQ-019'], childIds: ['inc-child-1'] }),
    );
    await h.settle();
    const feeder = await h.db.pool.query("SELECT 1 FROM intake.requests WHERE source = 'grid-dispatch' AND external_id = 'incident:inc-feeder-1'");
    expect(feeder.rowCount).toBe(1);
  });

  it('dead-letters incident events that are not about an incident id, and keeps going', async () => {
    const before = await h.count('incidents');
    await h.emit('cn.griddispatch.incident.opened.v1', incidentData({ id: 'inc bad\u202e', primaryRequestId: '7a6c1f4e-1111-4222-8333-944455556666' }));
    await h.emit('cn.griddispatch.incident.opened.v1', incidentData({ id: 'inc-ok-after-bad', primaryRequestId: '7a6c1f4e-1111-4222-8333-944455556666' }));
    await h.settle();
    expect(await h.count('incidents')).toBe(before + 1);
    expect(await snapshot('inc-ok-after-bad')).toBeDefined();
  });
});
