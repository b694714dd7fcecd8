import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler, preHandlerAsyncHookHandler, RouteOptions } from 'fastify';
import type { AuthFailureLimiter } from './auth-failures.ts';
import { HttpError } from './errors.ts';
import type { ApiKeyStore, Principal } from './key-store.ts';
import type { Scope } from './keys.ts';
import type { SharedRateLimiter } from './rate-limit.ts';
import type { StreamTokens } from './stream-tokens.ts';

export { SCOPES, generateApiKeySecret, hashApiKey, parseApiKeys, type ApiKeySpec, type Scope } from './keys.ts';
export { ApiKeyStore, createApiKey, listApiKeys, revokeApiKey, type Principal } from './key-store.ts';

/** What authentication needs at run time; built by the host. */
export interface AuthRuntime {
  store: ApiKeyStore;
  failures: AuthFailureLimiter;
  tokens: StreamTokens;
  /** Per-key limits; null: no limits. */
  limiter: SharedRateLimiter | null;
  /** Requests per minute for keys without their own limit. */
  defaultPerMinute: number;
  windowMs: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; null until a route's `requireScope` authenticated it. */
    principal: Principal | null;
  }
  interface FastifyInstance {
    auth: AuthRuntime;
  }
}

export function hasScope(principal: Pick<Principal, 'scopes'>, scope: Scope): boolean {
  return principal.scopes.has(scope) || principal.scopes.has('admin');
}

/** Whether the key may post requests with this `source` (GD_API_KEYS `:source+source`). */
export function mayUseSource(principal: Principal, source: string): boolean {
  return principal.sources === null || principal.sources.has(source);
}

function bearerToken(request: FastifyRequest): string | null | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

function field(value: unknown, name: string): string | undefined {
  if (value && typeof value === 'object' && name in value) {
    const v = (value as Record<string, unknown>)[name];
    if (typeof v === 'string' && v.length > 0) return v;
  }
  return undefined;
}

/** Where a route accepts a credential besides the Authorization header. */
interface CredentialParam {
  field: string;
  /** Also in a form body (Open311 POST). */
  body: boolean;
  /** API keys accepted there too (Open311's `api_key`); otherwise stream tokens only. */
  apiKeys: boolean;
}

function paramOf(options: RequireScopeOptions): CredentialParam | null {
  if (options.allowKeyParam) return { field: 'api_key', body: true, apiKeys: true };
  if (options.streamToken) return { field: options.streamToken, body: false, apiKeys: false };
  return null;
}

function tooManyFailures(retryAfterSeconds: number): HttpError {
  return new HttpError(429, 'too_many_failed_authentications', `too many failed authentications from this address; retry in ${retryAfterSeconds} s`, {
    retryAfterSeconds,
  });
}

async function principalOfKey(request: FastifyRequest, secret: string): Promise<Principal> {
  const { store, failures } = request.server.auth;
  const hash = store.hash(secret);
  const known = store.cached(hash);
  if (known) return known;
  // Before the lookup: an address that keeps failing costs neither a query nor a log line.
  const wait = failures.retryAfterSeconds(request.ip);
  if (wait > 0) throw tooManyFailures(wait);
  const principal = await store.lookup(hash);
  if (!principal) {
    failures.fail(request.ip);
    throw new HttpError(401, 'unauthorized', 'unknown or revoked API key');
  }
  return principal;
}

async function principalOfStreamToken(request: FastifyRequest, token: string): Promise<Principal> {
  const { store, failures, tokens } = request.server.auth;
  const wait = failures.retryAfterSeconds(request.ip);
  if (wait > 0) throw tooManyFailures(wait);
  const name = tokens.verify(token);
  const key = name === null ? null : await store.byName(name);
  if (!key) {
    failures.fail(request.ip);
    throw new HttpError(401, 'unauthorized', 'invalid or expired stream token: get a new one from POST /v1/stream-tokens');
  }
  // Read-only, whatever the key may do otherwise; it posts nothing.
  return {
    keyName: key.keyName,
    scopes: new Set(hasScope(key, 'requests:read') ? (['requests:read'] as const) : []),
    sources: new Set(),
    ratePerMinute: key.ratePerMinute,
    grids: key.grids,
  };
}

function takeRate(request: FastifyRequest, principal: Principal): void {
  const { limiter, defaultPerMinute, windowMs } = request.server.auth;
  if (!limiter) return;
  const perMinute = principal.ratePerMinute ?? defaultPerMinute;
  const limit = Math.max(1, Math.round((perMinute * windowMs) / 60_000));
  const decision = limiter.take(principal.keyName, limit);
  if (!decision.ok) {
    throw new HttpError(
      429,
      'rate_limited',
      `rate limit of ${decision.limit} requests per ${windowMs / 1000} s for key "${principal.keyName}" exceeded; retry in ${decision.retryAfterSeconds} s`,
      {
        retryAfterSeconds: decision.retryAfterSeconds,
      },
    );
  }
}

async function authenticate(request: FastifyRequest, param: CredentialParam | null, required: boolean, scopes: Scope[]): Promise<void> {
  if (request.principal) return;
  const header = bearerToken(request);
  if (header === null) throw new HttpError(401, 'unauthorized', 'Authorization header must be "Bearer <api key>"');
  const fromParam =
    header === undefined && param ? (field(request.query, param.field) ?? (param.body ? field(request.body, param.field) : undefined)) : undefined;
  const credential = header ?? fromParam;
  if (credential === undefined) {
    if (!required) return;
    throw new HttpError(401, 'unauthorized', 'missing API key: send "Authorization: Bearer <api key>"');
  }
  let principal: Principal;
  if (fromParam !== undefined && fromParam.startsWith('gdst_')) {
    principal = await principalOfStreamToken(request, fromParam);
  } else if (fromParam !== undefined && !param!.apiKeys) {
    throw new HttpError(401, 'unauthorized', `?${param!.field}= takes a stream token (POST /v1/stream-tokens), never an API key`);
  } else {
    const key = await principalOfKey(request, credential);
    // A key that travelled outside the header (a form, an Open311 URL) grants only what this route needs.
    principal = fromParam === undefined ? key : { ...key, scopes: new Set(scopes.filter((s) => hasScope(key, s))) };
  }
  request.principal = principal;
  takeRate(request, principal);
}

const SCOPE_MARK = Symbol.for('griddispatch.requireScope');

interface ScopeMark {
  scope: Scope;
  param: CredentialParam | null;
}

type MarkedHook = preHandlerAsyncHookHandler & { [SCOPE_MARK]?: ScopeMark };

export interface RequireScopeOptions {
  /**
   * Open311 GeoReport v2 clients send the key as an `api_key` query or form field: accepted
   * there (such routes authenticate after the body is parsed), granting only the route's scope.
   * A stream token is accepted there too.
   */
  allowKeyParam?: boolean;
  /**
   * A query parameter carrying a stream token (POST /v1/stream-tokens), for the board's
   * EventSource, which cannot send headers. API keys are never accepted there.
   */
  streamToken?: string;
}

/**
 * `{ preHandler: requireScope('requests:read') }`: 401 without a known key, 403 without the scope
 * (`admin` implies every scope), 429 when the key's rate or the address's failed
 * authentications are spent. The host moves the key check to `onRequest`, so an anonymous
 * caller gets 401 before anything about its body is parsed or validated.
 */
export function requireScope(scope: Scope, options: RequireScopeOptions = {}): preHandlerAsyncHookHandler {
  const param = paramOf(options);
  const hook: MarkedHook = async function scopeCheck(request: FastifyRequest, _reply: FastifyReply) {
    await authenticate(request, param, true, [scope]);
    const principal = request.principal!;
    if (!hasScope(principal, scope)) {
      throw new HttpError(403, 'forbidden', `API key "${principal.keyName}" lacks scope ${scope}`, { required: scope });
    }
  };
  hook[SCOPE_MARK] = { scope, param };
  return hook;
}

/**
 * `{ preHandler: [requireScope('requests:write'), requireSource((r) => …)] }`: 403 when the key
 * is bound to other sources. It runs before the route's handler, so nothing is stored, and the
 * answer is the same whether or not the (source, externalId) exists: a key of another source
 * learns nothing about that source's tickets.
 */
export function requireSource(sourceOf: (request: FastifyRequest) => string): preHandlerAsyncHookHandler {
  return async function sourceCheck(request: FastifyRequest) {
    const principal = request.principal;
    if (!principal) throw new HttpError(401, 'unauthorized', 'missing API key: send "Authorization: Bearer <api key>"');
    const source = sourceOf(request);
    if (!mayUseSource(principal, source)) {
      throw new HttpError(403, 'source_not_allowed', `API key "${principal.keyName}" may not post requests of source "${source}"`, { source });
    }
  };
}

function scopeMarks(route: RouteOptions): ScopeMark[] {
  const hooks = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
  return hooks.map((h) => (h as MarkedHook)[SCOPE_MARK]).filter((m): m is ScopeMark => m !== undefined);
}

/** onRoute hook: routes guarded by requireScope authenticate in onRequest (see requireScope). */
export function hoistAuthentication(route: RouteOptions): void {
  const marks = scopeMarks(route);
  if (marks.length === 0) return;
  const param = marks.find((m) => m.param)?.param ?? null;
  // A key in a form body is only readable after parsing: then the preHandler decides.
  const early: onRequestAsyncHookHandler = async (request) =>
    authenticate(
      request,
      param,
      !param?.body,
      marks.map((m) => m.scope),
    );
  const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
  route.onRequest = [early, ...existing];
}
