import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvent, RequestView, type WorkOrderUpdatedV1 } from '@griddispatch/contracts';
import { assignedData, KEYS, requestBody, startHarness, type Harness } from '../testing/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function newRequest(): Promise<string> {
  const res = await h.post('/v1/requests', requestBody());
  expect(res.statusCode).toBe(202);
  return res.json().id;
}

const event = (id: string, body: Record<string, unknown>, key = KEYS.field) => h.post(`/v1/work-orders/${id}/events`, body, key);

async function view(id: string): Promise<RequestView> {
  const res = await h.get(`/v1/requests/${id}`);
  expect(res.statusCode).toBe(200);
  return RequestView.parse(res.json());
}

describe('POST /v1/work-orders/:id/events', () => {
  it('refuses acknowledged until routing assigned the work order, then walks the whole way', async () => {
    const id = await newRequest();
    const early = await event(id, { type: 'acknowledged', by: '王建国' });
    expect(early.statusCode).toBe(409);
    expect(early.json().error).toMatchObject({
      code: 'illegal_transition',
      details: { status: 'received', allowed: ['suspended', 'reassigned', 'cancelled'] },
    });

    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id }));
    await h.settle();
    expect((await view(id)).status).toBe('assigned');

    for (const [type, status] of [
      ['acknowledged', 'acknowledged'],
      ['en_route', 'en_route'],
      ['arrived', 'arrived'],
      ['resolved', 'resolved'],
      ['closed', 'closed'],
    ] as const) {
      const res = await event(id, { type, by: '王建国', note: `${type} note` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ workOrderId: id, status });
    }
    await h.settle();
    const v = await view(id);
    expect(v.status).toBe('closed');
    expect(v.timeline.map((t) => t.type)).toEqual([
      'request.received',
      'dispatch.assigned',
      'workorder.acknowledged',
      'workorder.en_route',
      'workorder.arrived',
      'workorder.resolved',
      'workorder.closed',
    ]);
    expect(v.timeline[2]).toMatchObject({ by: '王建国', note: 'acknowledged note' });

    const records = (h.published.get('workorders.events') ?? []).filter((m) => m.key === id).map((m) => parseEvent(m.value));
    expect(records.map((e) => (e.data as WorkOrderUpdatedV1).type)).toEqual(['acknowledged', 'en_route', 'arrived', 'resolved', 'closed']);
    expect(records[0]).toMatchObject({
      type: 'cn.griddispatch.workorder.updated.v1',
      subject: id,
      data: { previousStatus: 'assigned', status: 'acknowledged', gridId: 'grid-hh-3', by: '王建国' },
    });
  });

  it('answers 409 with the allowed next events for skipped or repeated stages', async () => {
    const id = await newRequest();
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id }));
    await h.settle();
    expect((await event(id, { type: 'acknowledged' })).statusCode).toBe(200);
    const skip = await event(id, { type: 'arrived' });
    expect(skip.statusCode).toBe(409);
    expect(skip.json().error.details).toEqual({ status: 'acknowledged', allowed: ['en_route', 'suspended', 'reassigned', 'cancelled'] });
    expect((await event(id, { type: 'acknowledged' })).statusCode).toBe(409);
    expect((await event(id, { type: 'resumed' })).statusCode).toBe(409);
  });

  it('suspends and resumes to the previous status, reassigns without changing it, cancels', async () => {
    const id = await newRequest();
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id }));
    await h.settle();
    await event(id, { type: 'acknowledged' });
    await event(id, { type: 'en_route' });
    expect((await event(id, { type: 'suspended', note: '客户要求改约' })).json().status).toBe('suspended');
    expect((await event(id, { type: 'en_route' })).statusCode).toBe(409);
    expect((await event(id, { type: 'resumed' })).json()).toMatchObject({ previousStatus: 'suspended', status: 'en_route' });

    expect((await event(id, { type: 'reassigned' })).statusCode).toBe(400);
    expect((await event(id, { type: 'en_route', assignee: { staffId: 's', name: 'n' } })).statusCode).toBe(400);
    const re = await event(id, { type: 'reassigned', assignee: { staffId: 'staff-hh-02', name: '刘强' }, by: 'dispatcher-01' });
    expect(re.json()).toMatchObject({ previousStatus: 'en_route', status: 'en_route' });
    const v = await view(id);
    expect(v.assignees[0]).toEqual({ staffId: 'staff-hh-02', name: '刘强', role: 'manager' });
    expect(v.assignees[1]?.role).toBe('repair_crew');

    expect((await event(id, { type: 'cancelled', note: '重复报修' })).json().status).toBe('cancelled');
    expect((await event(id, { type: 'suspended' })).json().error.details.allowed).toEqual([]);
  });

  it('records who: the named person, else the calling system; refuses times in the future', async () => {
    const id = await newRequest();
    await event(id, { type: 'suspended' });
    await h.settle();
    const v = await view(id);
    expect(v.timeline.at(-1)).toMatchObject({ type: 'workorder.suspended', by: 'field-app' });
    const future = await event(id, { type: 'resumed', at: new Date(Date.now() + 3_600_000).toISOString() });
    expect(future.statusCode).toBe(400);
    const past = await event(id, { type: 'resumed', at: '2026-01-01T08:00:00+08:00' });
    expect(past.statusCode).toBe(200);
  });

  it('answers 404 for unknown work orders, 401/403 without workorders:write, 400 for bad bodies', async () => {
    expect((await event('7f1c3a2e-0000-4000-8000-000000000000', { type: 'acknowledged' })).statusCode).toBe(404);
    expect((await event('WO-1', { type: 'acknowledged' })).statusCode).toBe(404);
    const id = await newRequest();
    expect((await event(id, { type: 'acknowledged' }, '')).statusCode).toBe(401);
    expect((await event(id, { type: 'acknowledged' }, KEYS.writer)).statusCode).toBe(403);
    expect((await event(id, { type: 'teleported' })).statusCode).toBe(400);
    expect((await event(id, { type: 'resolved', at: 'soon' })).statusCode).toBe(400);
  });

  it('lets only one of two concurrent identical events through', async () => {
    const id = await newRequest();
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id }));
    await h.settle();
    const answers = await Promise.all(Array.from({ length: 10 }, () => event(id, { type: 'acknowledged' })));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, ...Array(9).fill(409)]);
  });
});
