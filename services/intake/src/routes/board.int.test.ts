import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignedData, incidentData, KEYS, requestBody, startHarness, type Harness } from '../testing/harness.ts';
import { openSse, type SseMessage, type SseStream } from '../testing/sse.ts';

// The dispatch board's HTTP side against a real listening host: the page, its snapshot and its
// event stream, fed by the read model after each commit (real PostgreSQL, in-process bus).

let h: Harness;
let base: string;
const streams: SseStream[] = [];

beforeAll(async () => {
  h = await startHarness({ board: { heartbeatMs: 300 } });
  base = await h.app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  for (const s of streams) s.close();
  await h?.close();
});

async function stream(query = '', headers: Record<string, string> = { authorization: `Bearer ${KEYS.reader}` }): Promise<SseStream> {
  const s = await openSse(`${base}/v1/events/stream${query}`, headers);
  streams.push(s);
  return s;
}

interface WorkOrderMessage {
  changes: string[];
  workOrder: {
    id: string;
    status: string;
    state: string;
    open: boolean;
    grid: { id: string } | null;
    next: { stage: string; deadline: string } | null;
    category: string;
  };
}
const body = (m: SseMessage) => JSON.parse(m.data) as WorkOrderMessage;
const about = (id: string, change?: string) => (m: SseMessage) =>
  m.event === 'workorder' && body(m).workOrder.id === id && (!change || body(m).changes.includes(change));

async function post(over: Record<string, unknown> = {}): Promise<{ id: string; committedAt: number }> {
  const res = await h.post('/v1/requests', requestBody(over));
  expect(res.statusCode).toBe(202);
  return { id: res.json().id, committedAt: Date.now() };
}

describe('dispatch board', () => {
  it('serves the page without a key, with its script allowed by hash and nothing else', async () => {
    const res = await fetch(`${base}/board`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    expect(html).toContain('调度看板');
    expect(html).toContain('{"gridsUrl":"v1/grids"}');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/); // self-contained: nothing fetched from elsewhere
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain(`script-src 'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    // The API parts are in the OpenAPI document; the page is not.
    const doc = (await (await fetch(`${base}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/board/work-orders', '/v1/events/stream']));
    expect(Object.keys(doc.paths)).not.toContain('/board');
  });

  it('refuses the stream and the snapshot without a key (401); in the URL only a read-only stream token', async () => {
    const token = async (key: string) => fetch(`${base}/v1/stream-tokens`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    expect((await stream('', {})).status).toBe(401);
    expect((await stream(`?token=wrong-token-123456`, {})).status).toBe(401);
    expect((await fetch(`${base}/v1/board/work-orders`)).status).toBe(401);
    // An API key in the URL is refused everywhere, the stream included (URLs end up in logs).
    expect((await stream(`?token=${KEYS.reader}`, {})).status).toBe(401);
    expect((await stream(`?key=${KEYS.reader}`, {})).status).toBe(401);
    expect((await fetch(`${base}/v1/requests?key=${KEYS.reader}`)).status).toBe(401);
    // A write-only key gets no token.
    expect((await token(KEYS.writer)).status).toBe(403);
    const issued = (await (await token(KEYS.reader)).json()) as { token: string; scopes: string[] };
    expect(issued.scopes).toEqual(['requests:read']);
    // The token reads the stream, and nothing else.
    expect((await fetch(`${base}/v1/board/work-orders?token=${issued.token}`)).status).toBe(401);
    expect((await fetch(`${base}/v1/board/work-orders`, { headers: { authorization: `Bearer ${issued.token}` } })).status).toBe(401);
    const ok = await stream(`?token=${encodeURIComponent(issued.token)}`, {});
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const hello = await ok.next((m) => m.event === 'hello');
    expect(JSON.parse(hello.data)).toMatchObject({ resumed: false, serverTime: expect.any(String), streamId: expect.any(String) });
    ok.close();
  });

  it('sends each committed change within a second: received, assigned, warning, breached, cancelled', async () => {
    const s = await stream();
    await s.next((m) => m.event === 'hello');

    const { id, committedAt } = await post();
    const received = await s.next(about(id, 'request.received'), 1000);
    expect(received.id).toMatch(/^[0-9a-f]{8}-\d+$/);
    expect(body(received).workOrder).toMatchObject({ status: 'received', state: 'ok', open: true, grid: null });
    expect(Date.now() - committedAt).toBeLessThan(1000);

    const deadlines = { ack: new Date(Date.now() + 5 * 60_000).toISOString(), arrive: new Date(Date.now() + 30 * 60_000).toISOString() };
    let sent = Date.now();
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id }, { deadlines }));
    const assigned = body(await s.next(about(id, 'dispatch.assigned'), 1000));
    expect(Date.now() - sent).toBeLessThan(1000);
    expect(assigned.workOrder).toMatchObject({ status: 'assigned', state: 'ok', grid: { id: 'grid-hh-3' }, next: { stage: 'ack', deadline: deadlines.ack } });

    sent = Date.now();
    await h.emit('cn.griddispatch.sla.warning.v1', {
      workOrderId: id,
      gridId: 'grid-hh-3',
      policy: 'aquaculture-circle',
      stage: 'ack',
      deadline: deadlines.ack,
      remainingMs: 60_000,
      late: false,
    });
    expect(body(await s.next(about(id, 'sla.warning'), 1000)).workOrder.state).toBe('warning');
    expect(Date.now() - sent).toBeLessThan(1000);

    sent = Date.now();
    await h.emit('cn.griddispatch.sla.breached.v1', {
      workOrderId: id,
      gridId: 'grid-hh-3',
      policy: 'aquaculture-circle',
      stage: 'ack',
      deadline: deadlines.ack,
      latenessMs: 10,
      level: 1,
      notify: ['supervisor'],
      late: false,
    });
    const breached = body(await s.next(about(id, 'sla.breached'), 1000));
    expect(Date.now() - sent).toBeLessThan(1000);
    expect(breached.workOrder).toMatchObject({ state: 'breached', breaches: [{ stage: 'ack', level: 1 }] });

    // The field app acknowledges: the countdown moves on to the arrival deadline.
    const ack = await h.post(`/v1/work-orders/${id}/events`, { type: 'acknowledged' }, KEYS.field);
    expect(ack.statusCode).toBe(200);
    expect(body(await s.next(about(id, 'workorder.updated'), 1000)).workOrder).toMatchObject({ status: 'acknowledged', next: { stage: 'arrive' }, open: true });
    // Intake's consumer also sees its own workorders.events record; that changes nothing, so no event.
    await h.settle();
    expect(s.pending().filter(about(id))).toEqual([]);

    const cancel = await h.post(`/v1/work-orders/${id}/events`, { type: 'cancelled' }, KEYS.field);
    expect(cancel.statusCode).toBe(200);
    expect(body(await s.next(about(id, 'workorder.updated'), 1000)).workOrder).toMatchObject({ status: 'cancelled', open: false });
    const snapshot = await h.get('/v1/board/work-orders');
    expect(snapshot.json().items.map((i: { id: string }) => i.id)).not.toContain(id);
  });

  it('applies grid and category filters to the stream and the snapshot', async () => {
    const hh3 = await stream('?gridId=grid-hh-3');
    const hh5 = await stream('?gridId=grid-hh-5,grid-hh-6');
    const billing = await stream('?category=billing');
    await Promise.all([hh3, hh5, billing].map((s) => s.next((m) => m.event === 'hello')));

    const a = await post();
    const b = await post({ category: 'billing' });
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id: a.id }, { gridId: 'grid-hh-3' }));
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id: b.id }, { gridId: 'grid-hh-5', gridName: '后湖5号网格' }));

    expect(body(await hh3.next(about(a.id, 'dispatch.assigned'))).workOrder.grid?.id).toBe('grid-hh-3');
    expect(body(await hh5.next(about(b.id, 'dispatch.assigned'))).workOrder.grid?.id).toBe('grid-hh-5');
    // Changes that commit within a few ms of each other may come as one event (changes: [...]).
    await billing.next(about(b.id, 'dispatch.assigned'));
    await h.settle();
    await new Promise((r) => setTimeout(r, 200));
    expect(
      hh3
        .pending()
        .filter((m) => m.event === 'workorder')
        .map((m) => body(m).workOrder.id),
    ).not.toContain(b.id);
    expect(
      hh5
        .pending()
        .filter((m) => m.event === 'workorder')
        .map((m) => body(m).workOrder.id),
    ).not.toContain(a.id);
    expect(
      billing
        .pending()
        .filter((m) => m.event === 'workorder')
        .map((m) => body(m).workOrder.category),
    ).not.toContain('fault_repair');

    const inGrid = (await h.get('/v1/board/work-orders?gridId=grid-hh-5')).json().items.map((i: { id: string }) => i.id);
    expect(inGrid).toContain(b.id);
    expect(inGrid).not.toContain(a.id);
    const byCategory = (await h.get('/v1/board/work-orders?category=billing')).json().items;
    expect(byCategory.map((i: { id: string }) => i.id)).toContain(b.id);
    expect(byCategory.every((i: { category: string }) => i.category === 'billing')).toBe(true);
    expect((await h.get('/v1/board/work-orders?category=nonsense')).statusCode).toBe(400);
  });

  it('resumes from Last-Event-ID with the events missed, and asks for a reload when it cannot', async () => {
    const watcher = await stream(); // keeps the hub reading changes while the other client is away
    await watcher.next((m) => m.event === 'hello');
    const first = await stream();
    await first.next((m) => m.event === 'hello');
    const { id } = await post();
    const seen = await first.next(about(id, 'request.received'));
    first.close();

    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id }));
    await watcher.next(about(id, 'dispatch.assigned'));

    const again = await stream('', { authorization: `Bearer ${KEYS.reader}`, 'last-event-id': seen.id! });
    expect(JSON.parse((await again.next((m) => m.event === 'hello')).data).resumed).toBe(true);
    expect(body(await again.next(about(id, 'dispatch.assigned'), 1000)).workOrder.status).toBe('assigned');

    const stranger = await stream('?lastEventId=0badf00d-12', {});
    expect(stranger.status).toBe(401);
    const other = await stream('?lastEventId=0badf00d-12');
    expect(JSON.parse((await other.next((m) => m.event === 'hello')).data).resumed).toBe(false);
  });

  it('tells the boards to reload when its database listener was cut, then streams again', async () => {
    const s = await stream();
    await s.next((m) => m.event === 'hello');
    await h.db.pool.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'griddispatch-intake-board'",
    );
    expect(JSON.parse((await s.next((m) => m.event === 'reset', 5000)).data).reason).toMatch(/reload/);
    const { id } = await post();
    await s.next(about(id, 'request.received'), 1000);
  });

  it('keeps idle streams open with heartbeat comments', async () => {
    const s = await stream();
    await s.next((m) => m.event === 'hello');
    await new Promise((r) => setTimeout(r, 800));
    expect(s.comments.filter((c) => c.startsWith('heartbeat')).length).toBeGreaterThanOrEqual(2);
  });

  it('lists open incidents (size, status, ETR, nesting) and streams their changes, filtered like work orders', async () => {
    // Another reader's key: the earlier tests' streams hold most of the reader key's limit (GD_STREAMS_PER_KEY).
    const field = { authorization: `Bearer ${KEYS.field}` };
    const s = await stream('', field);
    const hh5 = await stream('?gridId=grid-hh-5', field);
    const billing = await stream('?category=billing', field);
    await Promise.all([s, hh5, billing].map((x) => x.next((m) => m.event === 'hello')));
    const primary = '7a6c1f4e-1111-4222-8333-944455556666';
    const parent = incidentData({
      id: 'inc-board-feeder',
      kind: 'feeder',
      districtCodes: ['HH-TQ-017', 'HH-TQ-018', 'HH-TQ-019'],
      childIds: ['inc-board-017', 'inc-board-018'],
      primaryRequestId: primary,
      status: 'dispatched',
      callCount: 0,
      affectedCustomers: 240,
    });
    await h.emit('cn.griddispatch.incident.opened.v1', incidentData({ id: 'inc-board-017', primaryRequestId: primary, callCount: 3, affectedCustomers: 86 }));
    await h.emit(
      'cn.griddispatch.incident.opened.v1',
      incidentData({ id: 'inc-board-018', districtCodes: ['HH-TQ-018'], primaryRequestId: primary, callCount: 1, affectedCustomers: 64 }),
    );
    await h.emit('cn.griddispatch.incident.opened.v1', parent);
    const incidentMessage = (id: string, change?: string) => (m: SseMessage) =>
      m.event === 'incident' && JSON.parse(m.data).incident.id === id && (!change || JSON.parse(m.data).changes.includes(change));
    const opened = JSON.parse((await s.next(incidentMessage('inc-board-feeder', 'incident.opened'), 2000)).data);
    expect(opened.incident).toMatchObject({
      id: 'inc-board-feeder',
      kind: 'feeder',
      status: 'dispatched',
      callCount: 0,
      affectedCustomers: 240,
      childIds: ['inc-board-017', 'inc-board-018'],
      open: true,
    });

    const snapshot = await h.get('/v1/board/incidents');
    expect(snapshot.statusCode).toBe(200);
    const items = snapshot.json().items as { id: string; parentId: string | null; callCount: number; etr: string; status: string }[];
    expect(items.map((i) => i.id)).toEqual(expect.arrayContaining(['inc-board-feeder', 'inc-board-017', 'inc-board-018']));
    expect(items.find((i) => i.id === 'inc-board-017')).toMatchObject({ callCount: 3, etr: '2026-11-23T14:00:00.000Z', status: 'open' });

    // Nested under the feeder, a call more, a new ETR: one event with the incident as it is now.
    await h.emit(
      'cn.griddispatch.incident.updated.v1',
      incidentData({
        id: 'inc-board-017',
        parentId: 'inc-board-feeder',
        primaryRequestId: primary,
        callCount: 4,
        affectedCustomers: 86,
        etr: '2026-11-23T15:30:00.000Z',
        etrSource: 'manual',
        updatedAt: '2026-11-23T11:10:00.000Z',
        change: 'nested',
      }),
    );
    const nested = JSON.parse((await s.next(incidentMessage('inc-board-017', 'incident.updated'), 2000)).data).incident;
    expect(nested).toMatchObject({ parentId: 'inc-board-feeder', callCount: 4, etr: '2026-11-23T15:30:00.000Z', etrSource: 'manual', open: true });

    // Restored: off the board.
    await h.emit(
      'cn.griddispatch.incident.restored.v1',
      incidentData({
        id: 'inc-board-018',
        districtCodes: ['HH-TQ-018'],
        primaryRequestId: primary,
        status: 'restored',
        restoredAt: '2026-11-23T11:20:00.000Z',
        updatedAt: '2026-11-23T11:20:00.000Z',
        change: 'status',
      }),
    );
    expect(JSON.parse((await s.next(incidentMessage('inc-board-018', 'incident.restored'), 2000)).data).incident.open).toBe(false);
    expect((await h.get('/v1/board/incidents')).json().items.map((i: { id: string }) => i.id)).not.toContain('inc-board-018');

    // Filters: incidents of grid-hh-3 are not on a board of grid-hh-5, nor on a billing board.
    await h.settle();
    await new Promise((r) => setTimeout(r, 200));
    expect(hh5.pending().filter((m) => m.event === 'incident')).toEqual([]);
    expect(billing.pending().filter((m) => m.event === 'incident')).toEqual([]);
    expect((await h.get('/v1/board/incidents?gridId=grid-hh-5')).json().items).toEqual([]);
    expect((await h.get('/v1/board/incidents?limit=0')).statusCode).toBe(400);
  });

  it('reports consumer lag, outbox backlog and open board streams in /metrics', async () => {
    const metrics = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${KEYS.admin}` } })).text();
    expect(metrics).toMatch(/^griddispatch_consumer_lag\{service="intake",group="[^"]+",topic="sla\.breaches"\} 0$/m);
    expect(metrics).toMatch(/^griddispatch_outbox_backlog\{service="intake"\} \d+$/m);
    expect(metrics).toMatch(/^griddispatch_intake_board_streams [1-9]\d*$/m);
  });

  it('ends open streams when the host closes, instead of waiting for the boards to leave', async () => {
    const s = await stream();
    await s.next((m) => m.event === 'hello');
    const started = Date.now();
    await h.app.close();
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(s.next(() => false, 1000)).rejects.toThrow(/ended/);
  });
});
