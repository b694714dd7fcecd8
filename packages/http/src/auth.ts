import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler, preHandlerAsyncHookHandler, RouteOptions } from 'fastify';
import type { Pool } from 'pg';
import { HttpError } from './errors.ts';

export const SCOPES = ['requests:write', 'requests:read', 'workorders:write', 'subscriptions:write', 'pii:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  /** Name of the API key (the calling system), e.g. `sgcc-95598`. */
  keyName: string;
  scopes: ReadonlySet<Scope>;
}

export interface ApiKeySpec {
  name: string;
  secret: string;
  scopes: Scope[];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; null until a route's `requireScope` authenticated it. */
    principal: Principal | null;
  }
  interface FastifyInstance {
    apiKeyStore: ApiKeyStore;
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Parses `GD_API_KEYS` (`name:secret:scope+scope,...`, secrets without `:`); throws naming the bad entry. */
export function parseApiKeys(spec: string | undefined): ApiKeySpec[] {
  if (!spec || spec.trim() === '') return [];
  return spec
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry, i) => {
      // Scopes contain colons themselves (`requests:write`), so a secret may not.
      const first = entry.indexOf(':');
      const second = entry.indexOf(':', first + 1);
      if (first <= 0 || second < 0) throw new Error(`GD_API_KEYS entry ${i + 1}: expected name:secret:scope+scope`);
      const name = entry.slice(0, first);
      const secret = entry.slice(first + 1, second);
      const scopes = entry.slice(second + 1).split('+').filter(Boolean);
      if (!NAME.test(name)) throw new Error(`GD_API_KEYS entry ${i + 1}: bad key name "${name}"`);
      if (secret.length < 8) throw new Error(`GD_API_KEYS entry ${i + 1} (${name}): secret must be at least 8 characters`);
      if (scopes.length === 0) throw new Error(`GD_API_KEYS entry ${i + 1} (${name}): no scopes`);
      for (const s of scopes) if (!isScope(s)) throw new Error(`GD_API_KEYS entry ${i + 1} (${name}): unknown scope "${s}" (known: ${SCOPES.join(', ')})`);
      return { name, secret, scopes: scopes as Scope[] };
    });
}

export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A new high-entropy secret: `gdk_` + 32 random bytes, base64url. */
export function generateApiKeySecret(): string {
  return `gdk_${randomBytes(32).toString('base64url')}`;
}

/** Creates or replaces the named keys (bootstrap from GD_API_KEYS). */
export async function upsertApiKeys(pool: Pool, keys: ApiKeySpec[]): Promise<void> {
  for (const key of keys) {
    await pool.query(
      `INSERT INTO auth.api_keys (name, key_hash, scopes) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET key_hash = EXCLUDED.key_hash, scopes = EXCLUDED.scopes,
         updated_at = now(), revoked_at = NULL`,
      [key.name, hashApiKey(key.secret), key.scopes],
    );
  }
}

/** Creates a key and returns its secret (shown once; only the hash is kept). */
export async function createApiKey(pool: Pool, name: string, scopes: Scope[]): Promise<{ name: string; secret: string }> {
  if (!NAME.test(name)) throw new Error(`bad key name "${name}"`);
  const secret = generateApiKeySecret();
  await upsertApiKeys(pool, [{ name, secret, scopes }]);
  return { name, secret };
}

export async function revokeApiKey(pool: Pool, name: string): Promise<boolean> {
  const res = await pool.query('UPDATE auth.api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL', [name]);
  return (res.rowCount ?? 0) > 0;
}

interface CacheEntry {
  principal: Principal | null;
  expires: number;
}

/**
 * Looks keys up by hash, with a short cache so a busy caller costs one query per TTL, not one
 * per request. A revoked key stops working within `ttlMs`.
 */
export class ApiKeyStore {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly pool: Pool,
    private readonly ttlMs = 10_000,
    private readonly maxEntries = 10_000,
  ) {}

  async lookup(secret: string): Promise<Principal | null> {
    const hash = hashApiKey(secret);
    const now = Date.now();
    const hit = this.cache.get(hash);
    if (hit && hit.expires > now) return hit.principal;
    const res = await this.pool.query<{ name: string; scopes: string[] }>(
      'SELECT name, scopes FROM auth.api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    const row = res.rows[0];
    const principal = row ? { keyName: row.name, scopes: new Set(row.scopes.filter(isScope)) } : null;
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(hash, { principal, expires: now + this.ttlMs });
    return principal;
  }

  invalidate(): void {
    this.cache.clear();
  }
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has(scope) || principal.scopes.has('admin');
}

function bearerToken(request: FastifyRequest): string | null | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

function keyField(value: unknown, field: string): string | undefined {
  if (value && typeof value === 'object' && field in value) {
    const key = (value as Record<string, unknown>)[field];
    if (typeof key === 'string' && key.length > 0) return key;
  }
  return undefined;
}

/** Where a route accepts the key besides the Authorization header. */
interface KeyParam {
  /** Query (and, with `body`, form) field carrying the key. */
  field: string;
  body: boolean;
}

function keyParamOf(option: boolean | string | undefined): KeyParam | null {
  if (option === true) return { field: 'api_key', body: true };
  if (typeof option === 'string' && option.length > 0) return { field: option, body: false };
  return null;
}

async function authenticate(request: FastifyRequest, param: KeyParam | null, required: boolean, scopes: Scope[]): Promise<void> {
  if (request.principal) return;
  const token = bearerToken(request);
  if (token === null) throw new HttpError(401, 'unauthorized', 'Authorization header must be "Bearer <api key>"');
  const fromParam = token === undefined && param ? (keyField(request.query, param.field) ?? (param.body ? keyField(request.body, param.field) : undefined)) : undefined;
  const secret = token ?? fromParam;
  if (secret === undefined) {
    if (!required) return;
    throw new HttpError(401, 'unauthorized', 'missing API key: send "Authorization: Bearer <api key>"');
  }
  const principal = await request.server.apiKeyStore.lookup(secret);
  if (!principal) throw new HttpError(401, 'unauthorized', 'unknown or revoked API key');
  // A key that travelled in a URL (logs, browser history) grants only what this route needs.
  request.principal = fromParam === undefined ? principal : { keyName: principal.keyName, scopes: new Set(scopes.filter((s) => hasScope(principal, s))) };
}

const SCOPE_MARK = Symbol.for('griddispatch.requireScope');

interface ScopeMark {
  scope: Scope;
  keyParam: KeyParam | null;
}

type MarkedHook = preHandlerAsyncHookHandler & { [SCOPE_MARK]?: ScopeMark };

export interface RequireScopeOptions {
  /**
   * Also accept the key outside the Authorization header. `true`: as an `api_key` query or form
   * field (Open311 GeoReport v2 clients do this; such routes authenticate after the body is
   * parsed). A string: as that query parameter only (`'key'` for the board's EventSource, which
   * cannot send headers). A key taken from a parameter grants only the route's scope.
   */
  allowKeyParam?: boolean | string;
}

/**
 * `{ preHandler: requireScope('requests:read') }`: 401 without a known key, 403 without the scope
 * (`admin` implies every scope). The host moves the key check to `onRequest`, so an anonymous
 * caller gets 401 before anything about its body is parsed or validated.
 */
export function requireScope(scope: Scope, options: RequireScopeOptions = {}): preHandlerAsyncHookHandler {
  const keyParam = keyParamOf(options.allowKeyParam);
  const hook: MarkedHook = async function scopeCheck(request: FastifyRequest, _reply: FastifyReply) {
    await authenticate(request, keyParam, true, [scope]);
    const principal = request.principal!;
    if (!hasScope(principal, scope)) {
      throw new HttpError(403, 'forbidden', `API key "${principal.keyName}" lacks scope ${scope}`, { required: scope });
    }
  };
  hook[SCOPE_MARK] = { scope, keyParam };
  return hook;
}

function scopeMarks(route: RouteOptions): ScopeMark[] {
  const hooks = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
  return hooks.map((h) => (h as MarkedHook)[SCOPE_MARK]).filter((m): m is ScopeMark => m !== undefined);
}

/** onRoute hook: routes guarded by requireScope authenticate in onRequest (see requireScope). */
export function hoistAuthentication(route: RouteOptions): void {
  const marks = scopeMarks(route);
  if (marks.length === 0) return;
  const keyParam = marks.find((m) => m.keyParam)?.keyParam ?? null;
  // A key in a form body is only readable after parsing: then the preHandler decides.
  const early: onRequestAsyncHookHandler = async (request) =>
    authenticate(request, keyParam, !keyParam?.body, marks.map((m) => m.scope));
  const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
  route.onRequest = [early, ...existing];
}
