import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '@griddispatch/observability';
import { freshDatabase, type FreshDatabase } from '@griddispatch/testkit';
import { createApiKey, HttpError, requireScope, resolveKeyPepper, revokeApiKey, type ServiceHandle } from './index.ts';
import { buildHttpHost } from './host.ts';

const logger = createLogger({ service: 'http-test', level: process.env.LOG_LEVEL ?? 'silent' });
const WRITER = 'writer-secret-0001-Hk3vQ9zLm2';
const READER = 'reader-secret-0001-Hk3vQ9zLm2';
const ADMIN = 'admin-secret-00001-Hk3vQ9zLm2';

let ready = true;
const service: ServiceHandle = {
  name: 'echo',
  start: async () => {},
  stop: async () => {},
  ready: async () => ready,
  routes: async (fastify) => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.post(
      '/echo',
      { preHandler: requireScope('requests:write'), schema: { body: z.object({ name: z.string().max(10), n: z.number().int() }).strict() } },
      async (request) => ({ got: request.body, by: request.principal!.keyName }),
    );
    app.post('/form', { config: { formBody: true }, preHandler: requireScope('requests:write', { allowKeyParam: true }) }, async (request) => ({
      body: request.body,
    }));
    app.get('/watch', { preHandler: requireScope('requests:read', { streamToken: 'token' }) }, async (request) => ({
      by: request.principal!.keyName,
      scopes: [...request.principal!.scopes],
    }));
    app.get('/missing', { preHandler: requireScope('requests:read') }, async () => {
      throw new HttpError(404, 'not_found', 'no such thing', { id: 'x' });
    });
    app.get('/crash', async () => {
      throw new Error('password=hunter2 in a stack trace');
    });
    app.get('/stopped-database', async () => {
      await stopped.query('SELECT 1');
    });
    app.get('/busy-database', async () => {
      await busy.query('SELECT 1');
    });
  },
};

let db: FreshDatabase;
let app: FastifyInstance;
let pepper: string;
const newKey = (name: string, scopes: Parameters<typeof createApiKey>[3]['scopes']) => createApiKey(db.pool, pepper, name, { scopes });
// Nothing listens on port 1; `busy` has its only connection taken.
const stopped = new pg.Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 1_000 });
let busy: pg.Pool;
let busyHolder: pg.PoolClient;

beforeAll(async () => {
  db = await freshDatabase('http_host');
  busy = new pg.Pool({ connectionString: db.url, max: 1, connectionTimeoutMillis: 200 });
  busy.on('error', () => {
    // Its connection may still be closing when drop() terminates it; nothing to report.
  });
  busyHolder = await busy.connect();
  app = await buildHttpHost({
    pool: db.pool,
    logger,
    services: [service],
    apiKeys: `writer:${WRITER}:requests:write,reader:${READER}:requests:read,ops:${ADMIN}:admin`,
    rateLimit: { max: 5, timeWindowMs: 60_000 },
    bodyLimit: 1024,
    keyCacheTtlMs: 0,
  });
  pepper = await resolveKeyPepper(db.pool, undefined);
});

afterAll(async () => {
  await app?.close();
  busyHolder?.release();
  await Promise.all([busy?.end(), stopped.end()]);
  await db?.drop();
});

const json = (key: string | undefined, payload: unknown) => ({
  method: 'POST' as const,
  url: '/echo',
  headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
  payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
});

describe('HTTP host', () => {
  it('stores only HMACs of the bootstrap keys, under a pepper not derivable from the rows', async () => {
    const { rows } = await db.pool.query<{ name: string; key_hash: string }>('SELECT name, key_hash FROM auth.api_keys ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(['ops', 'reader', 'writer']);
    expect(JSON.stringify(rows)).not.toContain(WRITER);
    expect(rows.map((r) => r.key_hash)).not.toContain(createHash('sha256').update(WRITER).digest('hex'));
  });

  it('answers 401 without or with an unknown key, 403 without the scope, before reading the body', async () => {
    const none = await app.inject(json(undefined, '{not json'));
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    expect((await app.inject(json('nope-nope-nope', { name: 'a', n: 1 }))).statusCode).toBe(401);
    const forbidden = await app.inject(json(READER, { name: 'a', n: 1 }));
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error).toMatchObject({ code: 'forbidden', details: { required: 'requests:write' } });
    const admin = await app.inject(json(ADMIN, { name: 'a', n: 1 }));
    expect(admin.statusCode).toBe(200);
    expect(admin.json()).toEqual({ got: { name: 'a', n: 1 }, by: 'ops' });
  });

  it('answers 400 with field paths, 413 over the body limit and 415 for other media types', async () => {
    const invalid = await app.inject(json(WRITER, { name: 'far too long a name', n: 1.5 }));
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error.code).toBe('validation_failed');
    expect(
      invalid
        .json()
        .error.details.map((d: { path: string }) => d.path)
        .sort(),
    ).toEqual(['n', 'name']);
    expect((await app.inject(json(WRITER, '{"name":"a","name":"b","n":1}'))).json().error.code).toBe('invalid_json');
    expect((await app.inject(json(WRITER, { name: 'x'.repeat(2000), n: 1 }))).statusCode).toBe(413);
    const text = await app.inject({ ...json(WRITER, 'name=a'), headers: { authorization: `Bearer ${WRITER}`, 'content-type': 'text/plain' } });
    expect(text.statusCode).toBe(415);
    const form = await app.inject({
      ...json(WRITER, 'name=a'),
      headers: { authorization: `Bearer ${WRITER}`, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.statusCode).toBe(415);
  });

  it('accepts form bodies and an api_key field where a route opts in', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/form',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `api_key=${READER}x&a=1`,
    });
    expect(res.statusCode).toBe(401);
    const ok = await app.inject({
      method: 'POST',
      url: '/form',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `api_key=${ADMIN}&attribute%5Bx%5D=1`,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().body['attribute[x]']).toBe('1');
  });

  it('takes a stream token, never an API key, in the query where a route names it; the token grants read only', async () => {
    const admin = await newKey('board-viewer', ['admin']);
    const writer = await newKey('board-writer', ['requests:write']);
    expect((await app.inject({ method: 'GET', url: `/watch?token=${admin.secret}` })).statusCode).toBe(401);
    const issued = await app.inject({ method: 'POST', url: '/v1/stream-tokens', headers: { authorization: `Bearer ${admin.secret}` } });
    expect(issued.statusCode).toBe(200);
    const { token, expiresAt, scopes } = issued.json() as { token: string; expiresAt: string; scopes: string[] };
    expect(scopes).toEqual(['requests:read']);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(9 * 60_000);
    const ok = await app.inject({ method: 'GET', url: `/watch?token=${token}` });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ by: 'board-viewer', scopes: ['requests:read'] });
    // Not a key anywhere else, and not a bearer credential.
    expect((await app.inject(json(token, { name: 'a', n: 1 }))).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: `/missing?token=${token}` })).statusCode).toBe(401);
    // Forged or altered tokens fail; a writer cannot get one.
    expect((await app.inject({ method: 'GET', url: `/watch?token=${token.slice(0, -2)}xx` })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/v1/stream-tokens', headers: { authorization: `Bearer ${writer.secret}` } })).statusCode).toBe(403);
    // Through the header the same key keeps all its scopes.
    const header = await app.inject({ method: 'GET', url: '/watch', headers: { authorization: `Bearer ${admin.secret}` } });
    expect(header.json().scopes).toEqual(['admin']);
    // A revoked key's tokens die with it.
    await revokeApiKey(db.pool, 'board-viewer');
    expect((await app.inject({ method: 'GET', url: `/watch?token=${token}` })).statusCode).toBe(401);
  });

  it('answers 503 with Retry-After, not 500, while the database is stopped or its pool exhausted', async () => {
    for (const url of ['/stopped-database', '/busy-database']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json().error.code).toBe('unavailable');
    }
  });

  it('hides 5xx internals and keeps the error envelope for 404s', async () => {
    const crash = await app.inject({ method: 'GET', url: '/crash' });
    expect(crash.statusCode).toBe(500);
    expect(crash.body).not.toContain('hunter2');
    expect(crash.json().error.code).toBe('internal');
    const missing = await app.inject({ method: 'GET', url: '/missing', headers: { authorization: `Bearer ${READER}` } });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { code: 'not_found', message: 'no such thing', details: { id: 'x' } } });
    expect((await app.inject({ method: 'GET', url: '/no/such/route' })).json().error.code).toBe('not_found');
  });

  it('rate-limits per key with 429 and Retry-After, other keys unaffected', async () => {
    const key = await newKey('burst', ['requests:write']);
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) codes.push((await app.inject(json(key.secret, { name: 'a', n: i }))).statusCode);
    expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const limited = await app.inject(json(key.secret, { name: 'a', n: 9 }));
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json().error.code).toBe('rate_limited');
    const other = await newKey('calm', ['requests:write']);
    expect((await app.inject(json(other.secret, { name: 'a', n: 1 }))).statusCode).toBe(200);
  });

  it('stops accepting a revoked key', async () => {
    const key = await newKey('temp', ['requests:write']);
    expect((await app.inject(json(key.secret, { name: 'a', n: 1 }))).statusCode).toBe(200);
    await revokeApiKey(db.pool, 'temp');
    expect((await app.inject(json(key.secret, { name: 'a', n: 1 }))).statusCode).toBe(401);
  });

  it('serves healthz, readyz (503 when a service is not ready), metrics and the OpenAPI document', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready', checks: { database: true, echo: true } });
    ready = false;
    const notReady = await app.inject({ method: 'GET', url: '/readyz' });
    ready = true;
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json().checks.echo).toBe(false);
    // Metrics need the metrics:read scope (admin implies it).
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${READER}` } })).statusCode).toBe(403);
    const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(metrics.body).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/echo",status_code="401"\} \d+/);
    expect(metrics.body).toContain('process_cpu_seconds_total');
    const doc = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(doc.json().paths['/echo'].post.requestBody.content['application/json'].schema.properties.name).toMatchObject({ type: 'string', maxLength: 10 });
    expect((await app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
  });
});
