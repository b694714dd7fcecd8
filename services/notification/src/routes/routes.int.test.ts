import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpHost } from '@griddispatch/http';
import { assignedEvent, unroutableEvent } from '../testing/fixtures.ts';
import { startHarness, type Harness } from '../testing/harness.ts';

// The HTTP surface as an integrator uses it: register a webhook, see it listed without its
// secret, find out why a delivery failed, delete it.

let h: Harness;
let app: FastifyInstance;
const keys = {
  a: 'integrator-a-secret-00001',
  b: 'integrator-b-secret-00001',
  admin: 'operations-admin-secret',
  reader: 'read-only-secret-0000001',
};

beforeAll(async () => {
  h = await startHarness();
  app = await buildHttpHost({
    pool: h.db.pool,
    logger: h.logger,
    apiKeys: `integrator-a:${keys.a}:subscriptions:write,integrator-b:${keys.b}:subscriptions:write,ops:${keys.admin}:admin,reader:${keys.reader}:requests:read`,
    services: [h.service],
    rateLimit: false,
  });
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

async function createSub(key: string, body: unknown) {
  return app.inject({ method: 'POST', url: '/v1/subscriptions', headers: auth(key), payload: body as object });
}

describe('POST /v1/subscriptions', () => {
  it('returns the id and a whsec_ secret of 24+ random bytes, once', async () => {
    const res = await createSub(keys.a, { url: h.webhook.url, events: ['sla.breached', 'dispatch.assigned'], gridIds: ['HH-G03'] });
    expect(res.statusCode).toBe(201);
    const body = res.json<{ id: string; secret: string }>();
    expect(body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(body.secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    const list = await app.inject({ method: 'GET', url: '/v1/subscriptions', headers: auth(keys.a) });
    expect(list.body).not.toContain(body.secret);
    expect(list.json<{ items: unknown[] }>().items).toContainEqual({
      id: body.id,
      url: h.webhook.url,
      events: ['sla.breached', 'dispatch.assigned'],
      gridIds: ['HH-G03'],
      status: 'active',
      disabledReason: null,
      personalData: false,
      createdAt: expect.any(String),
    });
  });

  it('rejects unknown events, non-HTTP URLs and callers without the scope', async () => {
    const bad = await createSub(keys.a, { url: 'ftp://example.com/x', events: ['sla.exploded'] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: { code: string } }>().error.code).toBeDefined();
    expect((await createSub(keys.reader, { url: h.webhook.url, events: ['sla.breached'] })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/v1/subscriptions' })).statusCode).toBe(401);
  });
});

describe('GET /v1/subscriptions and DELETE', () => {
  it("shows an integrator only its own subscriptions; admin sees all; one cannot delete another's", async () => {
    const mine = (await createSub(keys.b, { url: `${h.webhook.url}?b`, events: ['workorder.updated'] })).json<{ id: string }>();
    const aList = (await app.inject({ method: 'GET', url: '/v1/subscriptions', headers: auth(keys.a) })).json<{ items: { id: string }[] }>();
    expect(aList.items.map((s) => s.id)).not.toContain(mine.id);
    const all = (await app.inject({ method: 'GET', url: '/v1/subscriptions', headers: auth(keys.admin) })).json<{ items: { id: string }[] }>();
    expect(all.items.map((s) => s.id)).toContain(mine.id);

    expect((await app.inject({ method: 'DELETE', url: `/v1/subscriptions/${mine.id}`, headers: auth(keys.a) })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: `/v1/subscriptions/${mine.id}`, headers: auth(keys.b) })).statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: `/v1/subscriptions/${mine.id}`, headers: auth(keys.b) })).statusCode).toBe(404);
  });
});

describe('GET /v1/deliveries', () => {
  it('tells an integrator why its webhook failed, filtered by event, subscription and status', async () => {
    const sub = (await createSub(keys.a, { url: h.webhook.url, events: ['dispatch.unroutable'] })).json<{ id: string }>();
    h.webhook.respond(() => ({ status: 400, body: '{"error":"unknown field"}' }));
    const event = unroutableEvent();
    await h.deliver(event);
    h.webhook.respond(() => ({ status: 200 }));

    const res = await app.inject({ method: 'GET', url: `/v1/deliveries?eventId=${event.id}`, headers: auth(keys.a) });
    expect(res.statusCode).toBe(200);
    const { items } = res.json<{ items: Record<string, unknown>[] }>();
    expect(items).toEqual([
      expect.objectContaining({
        eventId: event.id,
        eventType: 'cn.griddispatch.dispatch.unroutable.v1',
        channel: 'webhook',
        subscriptionId: sub.id,
        status: 'failed',
        attempts: 1,
        lastStatusCode: 400,
        // Our word for it, never the receiver's page (issue 17.1).
        lastError: 'http_400',
        history: [expect.objectContaining({ attempt: 1, outcome: 'permanent', statusCode: 400, latencyMs: expect.any(Number) })],
      }),
    ]);
    expect(res.body).not.toContain('unknown field');
    const byStatus = await app.inject({ method: 'GET', url: `/v1/deliveries?subscriptionId=${sub.id}&status=failed`, headers: auth(keys.a) });
    expect(byStatus.json<{ items: unknown[] }>().items).toHaveLength(1);
    const other = await app.inject({ method: 'GET', url: `/v1/deliveries?eventId=${event.id}`, headers: auth(keys.b) });
    expect(other.json<{ items: unknown[] }>().items).toHaveLength(0);
  });

  it('shows admins every channel with phone numbers and robot keys masked, paginated', async () => {
    for (let i = 0; i < 3; i++) await h.deliver(assignedEvent());
    const first = await app.inject({ method: 'GET', url: '/v1/deliveries?limit=4', headers: auth(keys.admin) });
    const page1 = first.json<{ items: { id: string; channel: string; recipient: string }[]; nextCursor: string | null }>();
    expect(page1.items).toHaveLength(4);
    expect(page1.nextCursor).not.toBeNull();
    const second = await app.inject({ method: 'GET', url: `/v1/deliveries?limit=100&cursor=${page1.nextCursor}`, headers: auth(keys.admin) });
    const page2 = second.json<{ items: { id: string; channel: string; recipient: string }[]; nextCursor: string | null }>();
    expect(page2.nextCursor).toBeNull();
    const all = [...page1.items, ...page2.items];
    expect(new Set(all.map((d) => d.id)).size).toBe(all.length);
    const sms = all.filter((d) => d.channel === 'sms');
    expect(sms.length).toBeGreaterThanOrEqual(3);
    for (const d of sms) expect(d.recipient).toBe('138****0001');
    for (const d of all.filter((x) => x.channel === 'wecom')) expect(d.recipient).toMatch(/\?key=(robo|desk)\*\*\*\*$/);

    expect((await app.inject({ method: 'GET', url: '/v1/deliveries?cursor=nonsense', headers: auth(keys.admin) })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/v1/deliveries?status=lost', headers: auth(keys.admin) })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/v1/deliveries', headers: auth(keys.reader) })).statusCode).toBe(403);
  });
});
