import type { LookupAddress } from 'node:dns';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpHost } from '@griddispatch/http';
import type { Resolver } from '../channels/webhook-target.ts';
import { unroutableEvent } from '../testing/fixtures.ts';
import { deliveryRows, startHarness, type Harness } from '../testing/harness.ts';

// A hostile integrator holding one subscriptions:write key tries to point webhooks at our own
// network (issue 17.1): every refused class at registration (nothing stored), names that resolve
// privately, a name that changes its answer between registration and send, and what the delivery
// log tells it afterwards. Real PostgreSQL; names resolve through an injected resolver, never the
// machine's.

const names: Record<string, string[]> = {};
const resolve: Resolver = async (host) => {
  const answer = names[host];
  if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return answer.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
};

let h: Harness;
let app: FastifyInstance;
const KEY = 'hostile-integrator-secret';
const auth = { authorization: `Bearer ${KEY}` };

beforeAll(async () => {
  h = await startHarness({ env: { NOTIFY_WEBHOOK_ALLOW_PRIVATE: '0', NOTIFY_MAX_SUBSCRIPTIONS_PER_KEY: '3' }, resolve });
  app = await buildHttpHost({ pool: h.db.pool, logger: h.logger, apiKeys: `hostile:${KEY}:subscriptions:write`, services: [h.service], rateLimit: false });
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

const subscribe = (url: string) => app.inject({ method: 'POST', url: '/v1/subscriptions', headers: auth, payload: { url, events: ['dispatch.unroutable'] } });
const stored = async () => (await h.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM notification.subscriptions')).rows[0]!.n;

describe('registration refuses targets in our network', () => {
  const port = () => new URL(h.webhook.url).port;
  const targets: [string, string][] = [
    ['loopback', 'http://127.0.0.1:PORT/hook'],
    ['loopback name', 'http://localhost.integrator.test:PORT/hook'],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['private 10/8', 'http://10.0.0.5/hook'],
    ['private 172.16/12', 'https://172.20.1.1/hook'],
    ['private 192.168/16', 'http://192.168.1.1/hook'],
    ['CGNAT', 'http://100.100.100.200/hook'],
    ['unspecified', 'http://0.0.0.0:PORT/hook'],
    ['multicast', 'http://239.1.1.1/hook'],
    ['IPv6 loopback', 'http://[::1]:PORT/hook'],
    ['IPv6 unique-local', 'http://[fd00:ec2::254]/hook'],
    ['IPv6 link-local', 'http://[fe80::1]/hook'],
    ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]:PORT/hook'],
    ['decimal loopback', 'http://2130706433:PORT/hook'],
    ['name resolving to a private address', 'https://hooks.internal.test/hook'],
    ['name resolving to metadata', 'http://metadata.integrator.test/latest'],
    ['name with one public and one private address', 'https://mixed.integrator.test/hook'],
    ['name resolving to IPv6 unique-local', 'https://v6.integrator.test/hook'],
  ];
  names['localhost.integrator.test'] = ['127.0.0.1'];
  names['hooks.internal.test'] = ['10.20.30.40'];
  names['metadata.integrator.test'] = ['169.254.169.254'];
  names['mixed.integrator.test'] = ['203.0.113.10', '192.168.0.10'];
  names['v6.integrator.test'] = ['fd12::1'];

  it.each(targets)('%s: 422 refused_target, nothing stored', async (_label, template) => {
    const before = await stored();
    const res = await subscribe(template.replace('PORT', port()));
    expect(res.statusCode).toBe(422);
    const { error } = res.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe('refused_target');
    // The answer names the class, never the address a name resolved to (no internal DNS oracle).
    expect(error.message).not.toMatch(/10\.20\.30\.40|192\.168\.0\.10|fd12::1/);
    expect(await stored()).toBe(before);
  });

  it('accepts a public name, and a name that does not resolve yet (each send checks again)', async () => {
    names['public.integrator.test'] = ['203.0.113.10'];
    expect((await subscribe('https://public.integrator.test/hook')).statusCode).toBe(201);
    expect((await subscribe('https://not-yet.integrator.test/hook')).statusCode).toBe(201);
  });
});

describe('a name that changes its answer between registration and send (DNS rebinding)', () => {
  it('is refused at connect time; the delivery log says refused_address and nothing else', async () => {
    await h.db.pool.query('DELETE FROM notification.subscriptions');
    const host = 'rebind.integrator.test';
    names[host] = ['203.0.113.10'];
    const created = await subscribe(`http://${host}:${new URL(h.webhook.url).port}/hook`);
    expect(created.statusCode).toBe(201);
    names[host] = ['127.0.0.1'];
    const event = unroutableEvent();
    await h.deliver(event);
    expect(h.webhook.received).toHaveLength(0);
    const [row] = await deliveryRows(h, "channel = 'webhook'");
    expect(row).toMatchObject({ status: 'failed', attempts: 1, last_status_code: null, last_error: 'refused_address' });
    const log = await app.inject({ method: 'GET', url: `/v1/deliveries?eventId=${event.id}`, headers: auth });
    expect(log.json<{ items: { lastError: string; history: { error: string }[] }[] }>().items).toEqual([
      expect.objectContaining({ lastError: 'refused_address', history: [expect.objectContaining({ error: 'refused_address' })] }),
    ]);
    expect(log.body).not.toContain('127.0.0.1');
  });
});

describe('subscriptions per key', () => {
  it('stops at NOTIFY_MAX_SUBSCRIPTIONS_PER_KEY with 409 subscription_limit', async () => {
    await h.db.pool.query('DELETE FROM notification.subscriptions');
    names['public.integrator.test'] = ['203.0.113.10'];
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => subscribe(`https://public.integrator.test/hook/${i}`)));
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 201, 201, 409, 409]);
    const refused = results.find((r) => r.statusCode === 409)!;
    expect(refused.json<{ error: { code: string } }>().error.code).toBe('subscription_limit');
    expect(await stored()).toBe(3);
  });
});
