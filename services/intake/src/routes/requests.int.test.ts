import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvent, RequestView } from '@griddispatch/contracts';
import { KEYS, requestBody, startHarness, type Harness } from '../testing/harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ rateLimit: { max: 1000, timeWindowMs: 60_000 } });
});
afterAll(async () => {
  await h?.close();
});

describe('POST /v1/requests', () => {
  it('answers 202 with a new id once the request and its event are stored', async () => {
    const body = requestBody();
    const res = await h.post('/v1/requests', body);
    expect(res.statusCode).toBe(202);
    const { id, status, duplicate } = res.json();
    expect({ status, duplicate }).toEqual({ status: 'received', duplicate: false });
    const { rows } = await h.db.pool.query('SELECT source, external_id, received_by, channel FROM intake.requests WHERE id = $1', [id]);
    expect(rows).toEqual([{ source: '95598', external_id: body.externalId, received_by: 'sgcc-95598', channel: 'api' }]);

    await h.settle();
    const records = (h.published.get('requests.received') ?? []).filter((m) => m.key === id);
    expect(records).toHaveLength(1);
    const event = parseEvent(records[0]!.value);
    expect(event).toMatchObject({ type: 'cn.griddispatch.request.received.v1', subject: id, source: '/griddispatch/intake' });
    expect(event.data).toMatchObject({ id, externalId: body.externalId, urgency: 'urgent', location: body.location, customer: body.customer });
  });

  it('answers a retry with the same id and duplicate=true, another body under the same key with 409', async () => {
    const body = requestBody();
    const first = (await h.post('/v1/requests', body)).json();
    const retry = await h.post('/v1/requests', { ...body, location: { ...(body.location as object) } });
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toEqual({ id: first.id, status: 'received', duplicate: true });

    const conflict = await h.post('/v1/requests', { ...body, description: '另一件事' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error).toMatchObject({ code: 'idempotency_conflict', details: { id: first.id } });
    // Same externalId from another source is another request.
    expect((await h.post('/v1/requests', { ...body, source: '12345' })).json().duplicate).toBe(false);
    await h.settle();
    expect((h.published.get('requests.received') ?? []).filter((m) => m.key === first.id)).toHaveLength(1);
  });

  it('gives concurrent identical POSTs one id, one row and one event', async () => {
    const body = requestBody();
    const answers = await Promise.all(Array.from({ length: 25 }, () => h.post('/v1/requests', body)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(25).fill(202));
    const ids = new Set(answers.map((a) => a.json().id));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => a.json().duplicate === false)).toHaveLength(1);
    const { rows } = await h.db.pool.query('SELECT count(*)::int AS n FROM intake.requests WHERE external_id = $1', [body.externalId]);
    expect(rows[0].n).toBe(1);
    await h.settle();
    expect((h.published.get('requests.received') ?? []).filter((m) => ids.has(m.key))).toHaveLength(1);
  });

  it('answers 401 without a key, 403 with a key lacking requests:write', async () => {
    expect((await h.post('/v1/requests', requestBody(), '')).statusCode).toBe(401);
    expect((await h.post('/v1/requests', requestBody(), 'not-a-key-at-all')).statusCode).toBe(401);
    const forbidden = await h.post('/v1/requests', requestBody(), KEYS.reader);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.code).toBe('forbidden');
    expect((await h.post('/v1/requests', requestBody(), KEYS.admin)).statusCode).toBe(202);
  });

  it('answers 400 naming the fields, 413 for big bodies, 415 for other media types', async () => {
    const bad = await h.post('/v1/requests', requestBody({ category: 'weather', location: { lat: 95, lon: 114 } }));
    expect(bad.statusCode).toBe(400);
    const paths = bad.json().error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['category', 'location.lat']));
    expect((await h.post('/v1/requests', requestBody({ description: 'x'.repeat(300 * 1024) }))).statusCode).toBe(413);
    const xml = await h.inject({
      method: 'POST',
      url: '/v1/requests',
      headers: { authorization: `Bearer ${KEYS.writer}`, 'content-type': 'application/xml' },
      payload: '<request/>',
    });
    expect(xml.statusCode).toBe(415);
  });
});

describe('GET /v1/requests/:id', () => {
  it('shows a received request in the shape of docs/architecture.md#http-api', async () => {
    const { id } = (await h.post('/v1/requests', requestBody({ externalId: 'GD-SHAPE' }))).json();
    const res = await h.get(`/v1/requests/${id}`);
    expect(res.statusCode).toBe(200);
    const view = RequestView.parse(res.json());
    expect(Object.keys(res.json()).sort()).toEqual([
      'assignees',
      'callback',
      'category',
      'etr',
      'externalId',
      'grid',
      'id',
      'incidentId',
      'receivedAt',
      'role',
      'sla',
      'source',
      'status',
      'timeline',
    ]);
    expect(view).toMatchObject({
      id,
      source: '95598',
      externalId: 'GD-SHAPE',
      category: 'fault_repair',
      status: 'received',
      grid: null,
      incidentId: null,
      assignees: [],
      sla: null,
    });
    expect(view.timeline).toEqual([{ at: view.receivedAt, type: 'request.received', by: 'sgcc-95598' }]);
  });

  it('answers 404 for unknown and malformed ids, 401/403 without read access', async () => {
    expect((await h.get('/v1/requests/7f1c3a2e-0000-4000-8000-000000000000')).statusCode).toBe(404);
    expect((await h.get('/v1/requests/not-a-uuid')).json().error.code).toBe('not_found');
    expect((await h.get('/v1/requests/7f1c3a2e-0000-4000-8000-000000000000', '')).statusCode).toBe(401);
    expect((await h.get('/v1/requests', KEYS.writer)).statusCode).toBe(403);
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After once a key used up its window', async () => {
    const limited = await startHarness({ rateLimit: { max: 3, timeWindowMs: 60_000 }, start: false });
    try {
      const codes = [];
      for (let i = 0; i < 5; i++) codes.push((await limited.post('/v1/requests', requestBody())).statusCode);
      expect(codes).toEqual([202, 202, 202, 429, 429]);
      const res = await limited.post('/v1/requests', requestBody());
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.json().error.code).toBe('rate_limited');
      expect(await limited.count('requests')).toBe(3);
      // Another key has its own budget.
      expect((await limited.get('/v1/requests')).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
