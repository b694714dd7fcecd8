import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestView, serializeEvent, type CloudEvent } from '@griddispatch/contracts';
import { assignedData, requestBody, startHarness, type Harness } from '../testing/harness.ts';

// The read model is built only from events on the bus (here the in-process bus; the Kafka run
// is in kafka.int.test.ts), and must not change when an event comes twice.

let clock = new Date('2026-11-23T11:00:00.000Z');
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ now: () => clock, record: ['requests.received'] });
});
afterAll(async () => {
  await h?.close();
});

async function newRequest(over: Record<string, unknown> = {}): Promise<string> {
  clock = new Date(clock.getTime() + 60_000);
  const res = await h.post('/v1/requests', requestBody(over));
  expect(res.statusCode).toBe(202);
  return res.json().id;
}

async function view(id: string): Promise<RequestView> {
  return RequestView.parse((await h.get(`/v1/requests/${id}`)).json());
}

async function redeliver(event: CloudEvent): Promise<void> {
  const topic = { 'cn.griddispatch.dispatch.assigned.v1': 'dispatch.assigned', 'cn.griddispatch.sla.breached.v1': 'sla.breaches' }[event.type as string]!;
  await h.bus.publish(topic, [{ key: event.subject, value: serializeEvent(event) }]);
}

const breach = (id: string, stage: 'ack' | 'arrive', level: number) => ({
  workOrderId: id,
  gridId: 'grid-hh-3',
  policy: 'aquaculture-circle',
  stage,
  deadline: '2026-11-23T12:30:00.000Z',
  latenessMs: 1000,
  level,
  notify: ['supervisor' as const],
  late: false,
});

describe('read model', () => {
  it('shows grid, incident, assignees, SLA and breaches exactly as docs/architecture.md#http-api, unchanged by redeliveries', async () => {
    const id = await newRequest();
    const assigned = await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id }, { incidentId: 'inc-hh-017-1' }), {
      time: new Date('2026-11-23T11:01:05Z'),
    });
    await h.emit(
      'cn.griddispatch.sla.warning.v1',
      {
        workOrderId: id,
        gridId: 'grid-hh-3',
        policy: 'aquaculture-circle',
        stage: 'arrive',
        deadline: '2026-11-23T12:30:00.000Z',
        remainingMs: 300_000,
        late: false,
      },
      { time: new Date('2026-11-23T11:25:00Z') },
    );
    const b1 = await h.emit('cn.griddispatch.sla.breached.v1', breach(id, 'arrive', 1), { time: new Date('2026-11-23T11:30:01Z') });
    await h.settle();
    const before = await view(id);

    await redeliver(assigned);
    await redeliver(b1);
    // The same breach level re-sent under a new event id (e.g. after a timer restart) adds nothing either.
    await h.emit('cn.griddispatch.sla.breached.v1', { ...breach(id, 'arrive', 1), late: true }, { time: new Date('2026-11-23T11:30:02Z') });
    await h.settle();
    const after = await view(id);
    expect(after.sla).toEqual(before.sla);
    expect(after.timeline.filter((t) => t.type === 'dispatch.assigned')).toHaveLength(1);

    expect(after).toMatchObject({
      id,
      status: 'assigned',
      grid: { id: 'grid-hh-3', name: '后湖3号网格', kind: 'district' },
      incidentId: 'inc-hh-017-1',
      assignees: [
        { staffId: 'staff-hh-07', name: '王建国', role: 'manager' },
        { staffId: 'crew-hh-1', name: '后湖抢修班', role: 'repair_crew' },
      ],
      sla: {
        policy: 'aquaculture-circle',
        deadlines: { ack: '2026-11-23T12:05:00.000Z', arrive: '2026-11-23T12:30:00.000Z', resolve: '2026-11-23T14:00:00.000Z' },
        breaches: [{ stage: 'arrive', deadline: '2026-11-23T12:30:00.000Z', level: 1 }],
      },
    });
    expect(after.timeline.map((t) => [t.at, t.type])).toEqual([
      [after.receivedAt, 'request.received'],
      ['2026-11-23T11:01:05.000Z', 'dispatch.assigned'],
      ['2026-11-23T11:25:00.000Z', 'sla.warning'],
      ['2026-11-23T11:30:01.000Z', 'sla.breached'],
      ['2026-11-23T11:30:02.000Z', 'sla.breached'],
    ]);
  });

  it('keeps a breach that overtook its assignment, and a late assignment does not undo a cancellation', async () => {
    const id = await newRequest();
    await h.emit('cn.griddispatch.sla.breached.v1', breach(id, 'ack', 1));
    await h.settle();
    expect((await view(id)).sla).toEqual({
      policy: 'aquaculture-circle',
      deadlines: {},
      breaches: [{ stage: 'ack', deadline: '2026-11-23T12:30:00.000Z', level: 1 }],
    });

    expect((await h.post(`/v1/work-orders/${id}/events`, { type: 'cancelled' }, 'field-app-secret-000001')).statusCode).toBe(200);
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id }));
    await h.settle();
    const v = await view(id);
    expect(v.status).toBe('cancelled');
    expect(v.grid?.name).toBe('后湖3号网格');
    expect(v.sla?.breaches).toHaveLength(1);
  });

  it('marks unroutable requests with the reason, and routes them later when an operator re-routes', async () => {
    const id = await newRequest();
    const request = assignedData({ id }).request;
    await h.emit('cn.griddispatch.dispatch.unroutable.v1', {
      workOrderId: id,
      request,
      reason: 'no grid for district HH-TQ-999',
      fallbackDesk: 'station-desk',
    });
    await h.settle();
    let v = await view(id);
    expect(v.status).toBe('unroutable');
    expect(v.timeline.at(-1)).toMatchObject({ type: 'dispatch.unroutable', note: 'no grid for district HH-TQ-999 → station-desk' });
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id }));
    await h.settle();
    v = await view(id);
    expect(v.status).toBe('assigned');
  });

  it('applies work-order events another producer published, guarded by the current status', async () => {
    clock = new Date('2026-11-23T11:05:00.000Z');
    const id = await newRequest();
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id }), { time: new Date('2026-11-23T11:06:00.000Z') });
    await h.settle();
    const data = {
      workOrderId: id,
      type: 'acknowledged' as const,
      at: '2026-11-23T11:10:00.000Z',
      by: '王建国',
      previousStatus: 'assigned' as const,
      status: 'acknowledged' as const,
      gridId: 'grid-hh-3',
    };
    await h.emit('cn.griddispatch.workorder.updated.v1', data);
    // Stale: claims to start from `received`; only its timeline entry is kept.
    await h.emit('cn.griddispatch.workorder.updated.v1', { ...data, type: 'cancelled', previousStatus: 'received', status: 'cancelled' });
    await h.settle();
    const v = await view(id);
    expect(v.status).toBe('acknowledged');
    expect(v.timeline.map((t) => t.type)).toEqual(['request.received', 'dispatch.assigned', 'workorder.acknowledged', 'workorder.cancelled']);
  });
});

describe('GET /v1/requests', () => {
  it('filters by status, grid, category, breached and time, and pages with a cursor', async () => {
    clock = new Date('2026-12-01T00:00:00.000Z');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await newRequest({ source: 'list-test', category: i % 2 === 0 ? 'fault_repair' : 'billing' }));
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id: ids[0]! }, { gridId: 'grid-tc-1', gridName: '天城1号网格' }));
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id: ids[2]! }, { gridId: 'grid-tc-1', gridName: '天城1号网格' }));
    await h.emit('cn.griddispatch.sla.breached.v1', { ...breach(ids[2]!, 'ack', 1), gridId: 'grid-tc-1' });
    await h.settle();

    const list = async (q: string) => {
      const res = await h.get(`/v1/requests?${q}`);
      expect(res.statusCode).toBe(200);
      return res.json() as { items: { id: string; status: string }[]; nextCursor: string | null };
    };
    const since = 'from=2026-12-01T00:00:00Z';
    expect((await list(`${since}&gridId=grid-tc-1`)).items.map((r) => r.id)).toEqual([ids[2], ids[0]]);
    expect((await list(`${since}&gridId=grid-tc-1&breached=true`)).items.map((r) => r.id)).toEqual([ids[2]]);
    expect((await list(`${since}&status=received`)).items).toHaveLength(5);
    expect((await list(`${since}&category=billing`)).items.map((r) => r.id)).toEqual([ids[5], ids[3], ids[1]]);
    expect((await list(`from=2026-12-01T00:02:00Z&to=2026-12-01T00:04:00Z`)).items.map((r) => r.id)).toEqual([ids[2], ids[1]]);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(`${since}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());

    expect((await h.get('/v1/requests?cursor=garbage')).statusCode).toBe(400);
    expect((await h.get('/v1/requests?limit=0')).statusCode).toBe(400);
    expect((await h.get('/v1/requests?status=lost')).statusCode).toBe(400);
    expect((await h.get('/v1/requests?breached=yes')).statusCode).toBe(400);
  });
});
