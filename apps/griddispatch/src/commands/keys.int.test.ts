import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpHost } from '@griddispatch/http';
import { createLogger } from '@griddispatch/observability';
import { freshDatabase, type FreshDatabase } from '@griddispatch/testkit';
import { keys } from './keys.ts';
import { testIo } from './test-io.ts';

// `griddispatch keys` against a real PostgreSQL, with a host on the same database checking
// what the keys it makes and revokes can do.

const logger = createLogger({ service: 'keys-cli-test', level: process.env.LOG_LEVEL ?? 'silent' });
const OPS = 'ops-secret-0123456789abcdef';
let db: FreshDatabase;

beforeAll(async () => {
  db = await freshDatabase('cli_keys');
});
afterAll(async () => {
  await db?.drop();
});

async function run(args: string[], env: Record<string, string> = {}) {
  const t = testIo({ env: { DATABASE_URL: db.url, ...env } });
  const code = await keys(args, t.io);
  return { code, out: t.stdout(), err: t.stderr() };
}

async function host(): Promise<FastifyInstance> {
  return buildHttpHost({ pool: db.pool, logger, services: [], apiKeys: `ops:${OPS}:admin`, rateLimit: false, keyCacheTtlMs: 0 });
}

const tokenWith = (app: FastifyInstance, secret: string) =>
  app.inject({ method: 'POST', url: '/v1/stream-tokens', headers: { authorization: `Bearer ${secret}` } });

describe('griddispatch keys', () => {
  it('creates a key (secret printed once), lists it, and revokes it for good', async () => {
    const created = await run(['create', 'wuhan-12345', '--scopes', 'requests:write+requests:read', '--sources', '12345', '--rate', '5000']);
    expect(created.code).toBe(0);
    const secret = created.out.trim();
    expect(secret).toMatch(/^gdk_[A-Za-z0-9_-]{43}$/);
    expect(created.err).toContain('shown once');

    let app = await host();
    expect((await tokenWith(app, secret)).statusCode).toBe(200);
    const listed = await run(['list']);
    expect(listed.out).not.toContain(secret);
    expect(listed.out).toMatch(/wuhan-12345\trequests:write\+requests:read\t12345\tall\t5000\/min\tkeys create\tactive/);
    expect(listed.out).toMatch(/ops\tadmin\tany\tall\tdefault\tGD_API_KEYS\tactive/);

    // The name is taken while the key is active.
    expect((await run(['create', 'wuhan-12345', '--scopes', 'requests:read'])).code).toBe(1);
    expect((await run(['create', 'ops', '--scopes', 'requests:read'])).err).toContain('exists already');

    expect((await run(['revoke', 'wuhan-12345'])).code).toBe(0);
    expect((await tokenWith(app, secret)).statusCode).toBe(401);
    await app.close();
    // A restart restores nothing.
    app = await host();
    expect((await tokenWith(app, secret)).statusCode).toBe(401);
    expect((await run(['list'])).out).toMatch(/wuhan-12345\t.*\trevoked .* \(keys revoke\)/);
    expect((await run(['revoke', 'wuhan-12345'])).code).toBe(1);
    await app.close();
  });

  it('creates a key limited to grids, and lists them', async () => {
    const created = await run(['create', 'city-hh', '--scopes', 'requests:read', '--grids', 'HH+TC-G01']);
    expect(created.code).toBe(0);
    expect((await run(['list'])).out).toMatch(/city-hh\trequests:read\tany\tHH\+TC-G01\tdefault\tkeys create\tactive/);
    const bad = await run(['create', 'y', '--scopes', 'requests:read', '--grids', 'HH+no good']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('bad grid id "no good"');
  });

  it('refuses bad scopes and a pepper other than the servers’', async () => {
    const bad = await run(['create', 'x', '--scopes', 'requests:fly']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('unknown scope "requests:fly"');
    expect((await run(['create', 'x'])).err).toContain('--scopes is required');
    const wrongPepper = await run(['create', 'x', '--scopes', 'requests:read'], { GD_KEY_PEPPER: 'not-the-pepper-the-keys-were-hashed-with' });
    expect(wrongPepper.code).toBe(1);
    expect(wrongPepper.err).toContain('GD_KEY_PEPPER differs');
  });
});
