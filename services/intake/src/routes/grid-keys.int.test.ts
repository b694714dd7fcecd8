import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignedData, incidentData, KEYS, requestBody, startHarness, type Harness } from '../testing/harness.ts';
import { openSse, type SseMessage, type SseStream } from '../testing/sse.ts';

// Issue 17.2: a key with allowed grids (GD_API_KEYS `houhu-only:…:grids=area-hh`) sees only the
// requests, work orders and incidents of the 后湖 area grid and the grids dispatched under it —
// in lists, by id (404 for another grid's, as for an unknown id), on the board and its stream,
// and in Open311 — and may not report progress on another grid's work order. Real PostgreSQL.

let h: Harness;
let base: string;
let stream: SseStream | undefined;
const ids = { hh: '', tc: '', unrouted: '' };

beforeAll(async () => {
  h = await startHarness({ board: { heartbeatMs: 300 } });
  base = await h.app.listen({ port: 0, host: '127.0.0.1' });
  for (const k of ['hh', 'tc', 'unrouted'] as const) {
    const res = await h.post('/v1/requests', requestBody());
    expect(res.statusCode).toBe(202);
    ids[k] = res.json<{ id: string }>().id;
  }
  await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id: ids.hh }, { gridId: 'grid-hh-3', areaId: 'area-hh' }));
  await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id: ids.tc }, { gridId: 'grid-tc-1', gridName: '天城1号网格', areaId: 'area-tc' }));
  await h.emit('cn.griddispatch.incident.opened.v1', incidentData({ id: 'inc-hh', gridId: 'grid-hh-3' }));
  await h.emit('cn.griddispatch.incident.opened.v1', incidentData({ id: 'inc-tc', gridId: 'grid-tc-1' }));
  await h.settle();
});
afterAll(async () => {
  stream?.close();
  await h?.close();
});

const idsOf = (items: { id: string }[]) => items.map((i) => i.id);

describe('a key limited to grids', () => {
  it('lists only the requests of its grids; another grid’s request is 404, a foreign gridId filter 403', async () => {
    const listed = await h.get('/v1/requests', KEYS.hhOnly);
    expect(listed.statusCode).toBe(200);
    expect(idsOf(listed.json<{ items: { id: string }[] }>().items)).toEqual([ids.hh]);
    expect((await h.get(`/v1/requests/${ids.hh}`, KEYS.hhOnly)).statusCode).toBe(200);
    for (const id of [ids.tc, ids.unrouted]) {
      const res = await h.get(`/v1/requests/${id}`, KEYS.hhOnly);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: { code: 'not_found', message: `request ${id} not found` } });
    }
    const foreign = await h.get('/v1/requests?gridId=grid-tc-1', KEYS.hhOnly);
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json()).toMatchObject({ error: { code: 'grid_not_allowed', details: { grids: ['grid-tc-1'] } } });
    // A key without grids sees all three, as before.
    expect(idsOf((await h.get('/v1/requests')).json<{ items: { id: string }[] }>().items)).toEqual(expect.arrayContaining(Object.values(ids)));
  });

  it('sees only its grids’ work orders and incidents on the board, and in Open311', async () => {
    const board = (await h.get('/v1/board/work-orders', KEYS.hhOnly)).json<{ items: { id: string }[] }>();
    expect(idsOf(board.items)).toEqual([ids.hh]);
    const incidents = (await h.get('/v1/board/incidents', KEYS.hhOnly)).json<{ items: { id: string }[] }>();
    expect(idsOf(incidents.items)).toEqual(['inc-hh']);
    expect((await h.get('/v1/board/incidents?gridId=grid-tc-1', KEYS.hhOnly)).statusCode).toBe(403);
    const open311 = (await h.get('/open311/v2/requests.json', KEYS.hhOnly)).json<{ service_request_id: string }[]>();
    expect(open311.map((r) => r.service_request_id)).toEqual([ids.hh]);
    expect((await h.get(`/open311/v2/requests/${ids.tc}.json`, KEYS.hhOnly)).statusCode).toBe(404);
  });

  it('may not report progress on another grid’s work order (404), and may on its own', async () => {
    const event = { type: 'acknowledged', by: 'S-1' };
    expect((await h.post(`/v1/work-orders/${ids.tc}/events`, event, KEYS.hhOnly)).statusCode).toBe(404);
    expect((await h.post(`/v1/work-orders/${ids.hh}/events`, event, KEYS.hhOnly)).statusCode).toBe(200);
  });

  it('follows only its grids on the event stream', async () => {
    stream = await openSse(`${base}/v1/events/stream`, { authorization: `Bearer ${KEYS.hhOnly}` });
    await stream.next((m) => m.event === 'hello');
    expect((await openSse(`${base}/v1/events/stream?gridId=grid-tc-1`, { authorization: `Bearer ${KEYS.hhOnly}` })).status).toBe(403);
    const hh = await h.post('/v1/requests', requestBody());
    const tc = await h.post('/v1/requests', requestBody());
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id: tc.json<{ id: string }>().id }, { gridId: 'grid-tc-1', areaId: 'area-tc' }));
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id: hh.json<{ id: string }>().id }, { gridId: 'grid-hh-3', areaId: 'area-hh' }));
    const about = (m: SseMessage) =>
      m.event === 'workorder' && (JSON.parse(m.data) as { workOrder: { id: string } }).workOrder.id === hh.json<{ id: string }>().id;
    await stream.next(about);
    await h.settle();
    await new Promise((r) => setTimeout(r, 200));
    const seen = stream
      .pending()
      .filter((m) => m.event === 'workorder')
      .map((m) => (JSON.parse(m.data) as { workOrder: { id: string } }).workOrder.id);
    expect(seen).not.toContain(tc.json<{ id: string }>().id);
  });
});
