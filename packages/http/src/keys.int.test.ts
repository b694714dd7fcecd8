import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '@griddispatch/observability';
import { freshDatabase, type FreshDatabase } from '@griddispatch/testkit';
import { buildHttpHost, type HttpHostOptions } from './host.ts';
import { createApiKey, parseHttpEnv, requireScope, requireSource, resolveKeyPepper, revokeApiKey, type ServiceHandle } from './index.ts';

// Key handling as an attacker holding one integrator key (or none) would probe it, against a
// real PostgreSQL: restarts, junk keys, sources and limits across replicas.

const logger = createLogger({ service: 'keys-test', level: process.env.LOG_LEVEL ?? 'silent' });
const OPS = 'ops-secret-Hk3vQ9zLm2xP7wRt5yBn';
const CALLER = 'caller-secret-Hk3vQ9zLm2xP7wRt5';
const OTHER = 'other-secret-Hk3vQ9zLm2xP7wRt5y';

const service: ServiceHandle = {
  name: 'echo',
  start: async () => {},
  stop: async () => {},
  ready: async () => true,
  routes: async (fastify) => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.get('/whoami', { preHandler: requireScope('requests:read') }, async (request) => ({
      key: request.principal!.keyName,
      grids: request.principal!.grids,
    }));
    app.get('/whoami-stream', { preHandler: requireScope('requests:read', { streamToken: 'token' }) }, async (request) => ({
      key: request.principal!.keyName,
      grids: request.principal!.grids,
    }));
    app.post(
      '/posts',
      {
        preHandler: [requireScope('requests:write'), requireSource((request) => (request.body as { source: string }).source)],
        schema: { body: z.object({ source: z.string() }) },
      },
      async (request) => ({ stored: request.body.source }),
    );
  },
};

let db: FreshDatabase;
const hosts: FastifyInstance[] = [];

async function host(options: Partial<HttpHostOptions> = {}): Promise<FastifyInstance> {
  const app = await buildHttpHost({ pool: db.pool, logger, services: [service], rateLimit: false, keyCacheTtlMs: 0, ...options });
  hosts.push(app);
  return app;
}

const get = (app: FastifyInstance, key: string, ip = '10.0.0.1') =>
  app.inject({ method: 'GET', url: '/whoami', headers: { authorization: `Bearer ${key}` }, remoteAddress: ip });

beforeAll(async () => {
  db = await freshDatabase('http_keys');
});
afterEach(async () => {
  for (const app of hosts.splice(0)) await app.close();
});
afterAll(async () => {
  await db?.drop();
});

describe('keys across restarts', () => {
  it('gives a key the grids GD_API_KEYS lists for it now: added, changed and removed at the next start', async () => {
    const start = (grids: string) => host({ apiKeys: `ops:${OPS}:admin,city:${CALLER}:requests:read${grids}` });
    expect((await get(await start(':grids=HH+TC'), CALLER)).json()).toEqual({ key: 'city', grids: ['HH', 'TC'] });
    expect((await get(await start(':grids=TC'), CALLER)).json()).toEqual({ key: 'city', grids: ['TC'] });
    expect((await get(await start(''), CALLER)).json()).toEqual({ key: 'city', grids: null });
    expect((await get(await start(''), OPS)).json()).toEqual({ key: 'ops', grids: null });
    // A stream token of the key carries its grids too (the board's stream is limited by them).
    const app = await start(':grids=HH');
    const token = (await app.inject({ method: 'POST', url: '/v1/stream-tokens', headers: { authorization: `Bearer ${CALLER}` } })).json<{ token: string }>()
      .token;
    const streamed = await app.inject({ method: 'GET', url: `/whoami-stream?token=${encodeURIComponent(token)}` });
    expect(streamed.json()).toEqual({ key: 'city', grids: ['HH'] });
  });

  it('revokes keys that leave GD_API_KEYS, and keeps CLI-revoked secrets revoked after a restart', async () => {
    const both = `ops:${OPS}:admin,caller:${CALLER}:requests:read`;
    let app = await host({ apiKeys: both });
    const pepper = await resolveKeyPepper(db.pool, undefined);
    const cli = await createApiKey(db.pool, pepper, 'from-cli', { scopes: ['requests:read'] });
    expect((await get(app, CALLER)).statusCode).toBe(200);
    expect((await get(app, cli.secret)).statusCode).toBe(200);
    await revokeApiKey(db.pool, 'ops');
    await app.close();

    // Restart with `caller` removed from the list and `ops` still listed with the revoked secret.
    app = await host({ apiKeys: `ops:${OPS}:admin` });
    expect((await get(app, CALLER)).statusCode).toBe(401);
    expect((await get(app, OPS)).statusCode).toBe(401);
    // A key made by `griddispatch keys create` is not in GD_API_KEYS and survives the restart.
    expect((await get(app, cli.secret)).statusCode).toBe(200);
    await app.close();

    // `ops` with a new secret is a new key; `caller` listed again is restored.
    const NEW_OPS = 'ops-rotated-Hk3vQ9zLm2xP7wRt5yB';
    app = await host({ apiKeys: `ops:${NEW_OPS}:admin,caller:${CALLER}:requests:read` });
    expect((await get(app, NEW_OPS)).statusCode).toBe(200);
    expect((await get(app, OPS)).statusCode).toBe(401);
    expect((await get(app, CALLER)).statusCode).toBe(200);
  });

  it('refuses a weak key at start, naming it', () => {
    expect(() => parseHttpEnv({ GD_API_KEYS: `ops:${OPS}:admin,sgcc-95598:change-me-95598:requests:write` })).toThrow(
      /GD_API_KEYS entry 2 \(sgcc-95598\): the secret is too short/,
    );
    expect(() => parseHttpEnv({ GD_API_KEYS: 'dev:dev-secret:admin' })).toThrow(/\(dev\)/);
  });

  it('refuses to start with a pepper other than the one the stored keys were hashed with', async () => {
    await host({ apiKeys: `ops:${OPS}:admin` });
    await expect(host({ apiKeys: `ops:${OPS}:admin`, keyPepper: 'some-other-pepper-of-32-characters-x' })).rejects.toThrow(/GD_KEY_PEPPER differs/);
  });
});

describe('failed authentications', () => {
  it('throttles 1,000 wrong keys from one address before any lookup, while the right key still works', async () => {
    const app = await host({ apiKeys: `caller:${CALLER}:requests:read` });
    expect((await get(app, CALLER, '10.0.0.7')).statusCode).toBe(200);
    let lookups = 0;
    const query = db.pool.query.bind(db.pool);
    // Counts the key lookups the junk causes.
    db.pool.query = ((...args: Parameters<typeof query>) => {
      if (String(args[0]).includes('FROM auth.api_keys WHERE key_hash')) lookups++;
      return query(...args);
    }) as typeof db.pool.query;
    const codes = new Map<number, number>();
    let retryAfter = '';
    try {
      for (let i = 0; i < 1_000; i++) {
        const res = await get(app, `wrong-key-${i}-Hk3vQ9zLm2xP7wRt5`, '10.0.0.7');
        codes.set(res.statusCode, (codes.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode === 429) retryAfter = res.headers['retry-after'] as string;
      }
      expect(Object.fromEntries(codes)).toEqual({ 401: 20, 429: 980 });
      expect(Number(retryAfter)).toBeGreaterThan(0);
      expect(lookups).toBe(20);
      // The right key: from the attacked address once it is known, and from anywhere else.
      const before = lookups;
      expect((await get(app, CALLER, '10.0.0.7')).statusCode).toBe(429); // not cached (TTL 0 here): refused unseen
      expect((await get(app, CALLER, '10.0.0.8')).statusCode).toBe(200);
      expect(lookups).toBe(before + 1);
    } finally {
      db.pool.query = query;
    }
  });

  it('counts per client behind a trusted proxy (GD_TRUST_PROXY), not per proxy', async () => {
    const app = await host({ apiKeys: `caller:${CALLER}:requests:read`, trustProxy: '10.9.0.1' });
    const via = (key: string, client: string) =>
      app.inject({ method: 'GET', url: '/whoami', headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': client }, remoteAddress: '10.9.0.1' });
    for (let i = 0; i < 25; i++) await via(`junk-${i}-Hk3vQ9zLm2xP7wRt5yBn4c`, '203.0.113.5');
    expect((await via('junk-x-Hk3vQ9zLm2xP7wRt5yBn4c', '203.0.113.5')).statusCode).toBe(429);
    expect((await via(CALLER, '203.0.113.6')).statusCode).toBe(200);
  });

  it('lets a cached key through from an address that is throttled', async () => {
    const app = await host({ apiKeys: `caller:${CALLER}:requests:read`, keyCacheTtlMs: 60_000 });
    expect((await get(app, CALLER, '10.0.0.9')).statusCode).toBe(200);
    for (let i = 0; i < 30; i++) await get(app, `junk-${i}-Hk3vQ9zLm2xP7wRt5yBn4c`, '10.0.0.9');
    expect((await get(app, 'junk-x-Hk3vQ9zLm2xP7wRt5yBn4c', '10.0.0.9')).statusCode).toBe(429);
    expect((await get(app, CALLER, '10.0.0.9')).statusCode).toBe(200);
  });
});

describe('sources bound to keys', () => {
  it("answers 403 to a key of another source, before the route's handler runs", async () => {
    const app = await host({ apiKeys: `k95598:${CALLER}:requests:write+requests:read:95598,k12345:${OTHER}:requests:write:12345,ops:${OPS}:admin` });
    const post = (key: string, source: string) =>
      app.inject({ method: 'POST', url: '/posts', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, payload: { source } });
    expect((await post(CALLER, '95598')).json()).toEqual({ stored: '95598' });
    const squat = await post(OTHER, '95598');
    expect(squat.statusCode).toBe(403);
    expect(squat.json().error).toMatchObject({ code: 'source_not_allowed', details: { source: '95598' } });
    expect((await post(OPS, '95598')).statusCode).toBe(200);
  });
});

describe('per-key rate limits', () => {
  it('holds one key to its limit across two instances on one database, and tells the caller when to retry', async () => {
    const apiKeys = `caller:${CALLER}:requests:read:10/min,other:${OTHER}:requests:read`;
    const rateLimit = { max: 1_000, timeWindowMs: 60_000, syncMs: 100 };
    const a = await host({ apiKeys, rateLimit });
    const b = await host({ apiKeys, rateLimit });
    // Both replicas have seen each other (a few syncs).
    await new Promise((resolve) => setTimeout(resolve, 400));
    const codes: number[] = [];
    let refused: Awaited<ReturnType<typeof get>> | undefined;
    for (let i = 0; i < 30; i++) {
      const res = await get(i % 2 === 0 ? a : b, CALLER, `10.0.1.${i}`);
      codes.push(res.statusCode);
      if (res.statusCode === 429) refused = res;
      if (i % 5 === 4) await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const accepted = codes.filter((c) => c === 200).length;
    // Two instances used to allow 20 (10 each); now 10, or at most N−1 = 1 over it, and one more
    // when both replicas synced at the same moment (neither saw the other's last counts).
    expect(accepted).toBeGreaterThanOrEqual(10);
    expect(accepted).toBeLessThanOrEqual(12);
    expect(codes.filter((c) => c !== 200 && c !== 429)).toEqual([]);
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused!.json().error.code).toBe('rate_limited');
    // Another key has its own budget (the default, 1,000 here).
    expect((await get(a, OTHER)).statusCode).toBe(200);
  });
});
