import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Pool } from 'pg';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { migrate } from '@griddispatch/db';
import { withRequestTrace, type Logger } from '@griddispatch/observability';
import { AuthFailureLimiter } from './auth-failures.ts';
import { hoistAuthentication, requireScope } from './auth.ts';
import { ApiKeyStore, resolveKeyPepper, syncApiKeys } from './key-store.ts';
import { parseApiKeys, type ApiKeySpec } from './keys.ts';
import { SharedRateLimiter } from './rate-limit.ts';
import { STREAM_TOKEN_TTL_S, StreamTokens } from './stream-tokens.ts';
import { createErrorHandler, HttpError, notFoundHandler } from './errors.ts';
import { decodeUtf8, parseStrictJson } from './json.ts';
import { createMetricsRegistry, instrumentHttp } from './metrics.ts';
import type { ServiceHandle } from './service.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route also accepts `application/x-www-form-urlencoded` bodies (Open311). */
    formBody?: boolean;
  }
  interface FastifyInstance {
    metricsRegistry: Registry;
  }
}

export const DEFAULT_BODY_LIMIT = 256 * 1024;

export interface RateLimitOptions {
  /** Requests per minute for keys without their own `N/min` (GD_RATE_LIMIT_MAX). */
  max: number;
  /** The counting window; a key's `N/min` is scaled to it. Default one minute. */
  timeWindowMs: number;
  /** How often replicas share their counts (rate-limit.ts). Default 1 s. */
  syncMs?: number;
}

/** Requests per minute per key by default: one 95598 system is one key, at a province's typhoon peak. */
export const DEFAULT_RATE_PER_MINUTE = 100_000;
/** Failed authentications per client address per minute before it gets 429 without a lookup. */
export const DEFAULT_AUTH_FAILURES_PER_MINUTE = 20;

export interface HttpHostOptions {
  pool: Pool;
  logger: Logger;
  /**
   * GD_API_KEYS, text or parsed: the whole list of environment keys (key-store.ts#syncApiKeys:
   * created or updated, names missing from it revoked). Absent: the stored keys are left as they are.
   */
  apiKeys?: string | ApiKeySpec[];
  /** GD_KEY_PEPPER; absent: the pepper generated once and kept in the database. */
  keyPepper?: string;
  services: ServiceHandle[];
  /** Extra readiness checks beside the database and the services, e.g. `{ bus: () => … }`. */
  readiness?: Record<string, () => Promise<boolean>>;
  /** Bytes; larger bodies get 413. Default 256 KiB. */
  bodyLimit?: number;
  /** Default DEFAULT_RATE_PER_MINUTE per key, shared by the replicas; `false` turns limiting off. */
  rateLimit?: RateLimitOptions | false;
  /** Default DEFAULT_AUTH_FAILURES_PER_MINUTE per client address; 0 turns it off. */
  authFailuresPerMinute?: number;
  /** Serve the Swagger UI and OpenAPI document at /docs (GD_DOCS). Default true. */
  docs?: boolean;
  /**
   * GD_TRUST_PROXY: addresses or CIDRs of the reverse proxies in front (comma-separated), whose
   * X-Forwarded-For names the client. Without it, behind a proxy every caller has the proxy's
   * address, and the failed-authentication limit would be shared by all of them.
   */
  trustProxy?: string;
  /** Share a registry with other code; default: a new one with the default process metrics. */
  metrics?: Registry;
  /** OpenAPI title. */
  title?: string;
  /** How long a key lookup is cached (revocation delay). Default 10 s. */
  keyCacheTtlMs?: number;
}

const AUTH_MIGRATIONS = new URL('../migrations/', import.meta.url).pathname;

/** The `auth` schema (keys, pepper, shared rate counts); the host and `griddispatch keys` run it. */
export async function migrateAuth(pool: Pool, logger: Logger): Promise<void> {
  await migrate(pool, { schema: 'auth', folder: AUTH_MIGRATIONS, logger });
}
const READY_CHECK_TIMEOUT_MS = 2_000;

async function withTimeout(check: () => Promise<boolean>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check().catch(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), READY_CHECK_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const JSON_TYPES = /^application\/(?:[\w.+-]+\+)?json$/;
const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * The one Fastify host: a distributed service builds it with its own routes, the embedded
 * start with every service's. Runs the `auth` migrations and bootstraps keys, so it is async.
 */
export async function buildHttpHost(options: HttpHostOptions): Promise<FastifyInstance> {
  const { pool, logger, services } = options;
  await migrateAuth(pool, logger);
  const pepper = await resolveKeyPepper(pool, options.keyPepper);
  if (options.apiKeys !== undefined) {
    const keys = typeof options.apiKeys === 'string' ? parseApiKeys(options.apiKeys) : options.apiKeys;
    const { stillRevoked, removed } = await syncApiKeys(pool, pepper, keys);
    if (removed.length > 0) logger.warn({ keys: removed }, 'API keys no longer in GD_API_KEYS were revoked');
    if (stillRevoked.length > 0)
      logger.warn(
        { keys: stillRevoked },
        'API keys in GD_API_KEYS stay revoked: `griddispatch keys revoke` revoked these secrets (give the key a new secret to use the name again)',
      );
  }

  const errorHandler = createErrorHandler(logger);
  const app = Fastify({
    // pino 10's Logger and Fastify's FastifyBaseLogger differ only in generic parameters.
    loggerInstance: logger as FastifyBaseLogger,
    // Our onResponse hook writes one line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    requestIdHeader: 'x-request-id',
    ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
    return503OnClosing: true,
    // Errors before routing (a URL that is not valid percent-encoded UTF-8) get our error body too.
    frameworkErrors: (err, request, reply) => errorHandler(err, request, reply),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  // PostgreSQL text cannot hold NUL: a path or query parameter carrying one (%00) would reach a
  // query and fail there as a 500. Refused up front, like a NUL in a JSON body (json.ts).
  app.addHook('onRequest', async (request) => {
    if (request.url.includes('%00')) throw new HttpError(400, 'invalid_text', 'the URL contains a NUL character (%00)');
  });
  app.setNotFoundHandler(notFoundHandler);
  // The handler and the route's own preHandlers (auth) run inside the request's trace, so what
  // it emits carries `traceparent` (packages/observability/src/tracing.ts).
  app.addHook('preHandler', (request, _reply, done) => withRequestTrace(request.headers, done));

  const registry = options.metrics ?? createMetricsRegistry();
  app.decorate('metricsRegistry', registry);
  const limiter =
    options.rateLimit === false
      ? null
      : new SharedRateLimiter({ pool, logger, windowMs: options.rateLimit?.timeWindowMs ?? 60_000, syncMs: options.rateLimit?.syncMs });
  app.decorate('auth', {
    store: new ApiKeyStore(pool, pepper, options.keyCacheTtlMs, undefined, logger),
    failures: new AuthFailureLimiter(options.authFailuresPerMinute ?? DEFAULT_AUTH_FAILURES_PER_MINUTE),
    tokens: new StreamTokens(pepper),
    limiter,
    defaultPerMinute: options.rateLimit ? options.rateLimit.max : DEFAULT_RATE_PER_MINUTE,
    windowMs: options.rateLimit ? options.rateLimit.timeWindowMs : 60_000,
  });
  if (limiter) {
    limiter.start();
    app.addHook('onClose', async () => limiter.stop());
  }
  app.decorateRequest('principal', null);
  instrumentHttp(app, registry);
  for (const service of services) service.registerMetrics?.(registry);

  // Strict JSON for every JSON media type; text/plain and everything else → 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseStrictJson(decodeUtf8(body as Buffer)));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  await app.register(formbody);
  app.addHook('preParsing', async (request, _reply, payload) => {
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === FORM_TYPE && !request.routeOptions.config.formBody) {
      throw new HttpError(415, 'unsupported_media_type', 'this route accepts application/json only');
    }
    return payload;
  });

  // Routes guarded by requireScope authenticate (and count against their key's rate) in onRequest.
  app.addHook('onRoute', hoistAuthentication);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.title ?? 'grid-dispatch API', version: '1.0.0' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  // The API's shape is no secret, but a public listener need not advertise it (GD_DOCS).
  if (options.docs !== false) await app.register(swaggerUi, { routePrefix: '/docs' });

  app.addHook('onResponse', async (request, reply) => {
    const line = {
      reqId: request.id,
      method: request.method,
      route: request.routeOptions.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
      key: request.principal?.keyName,
    };
    // 5xx were logged with their error by the error handler already.
    logger.debug(line, 'request');
  });

  const ops = app.withTypeProvider<ZodTypeProvider>();
  ops.get('/healthz', { schema: { hide: true, response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }));
  ops.get('/readyz', { schema: { hide: true, response: { 200: ReadyBody, 503: ReadyBody } } }, async (_request, reply) => {
    const checks: Record<string, () => Promise<boolean>> = {
      database: async () => (await pool.query('SELECT 1')).rowCount === 1,
      ...Object.fromEntries(services.map((s) => [s.name, () => s.ready()])),
      ...options.readiness,
    };
    const results = Object.fromEntries(await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await withTimeout(check)] as const)));
    const ready = Object.values(results).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks: results });
  });
  // Metrics tell an outsider load, backlogs and key names: a scraper gets a `metrics:read` key.
  app.get('/metrics', { preHandler: requireScope('metrics:read'), schema: { hide: true } }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  ops.post(
    '/v1/stream-tokens',
    {
      preHandler: requireScope('requests:read'),
      schema: {
        summary: 'A short-lived read-only token for URLs',
        description:
          `For clients that cannot send an Authorization header (EventSource): ?token=<token> on GET /v1/events/stream. ` +
          `Valid ${STREAM_TOKEN_TTL_S / 60} min (for opening a stream; an open stream stays open), scope requests:read only, ` +
          'and only while the key that asked for it is active. API keys are never accepted in URLs there.',
        tags: ['auth'],
        response: { 200: z.object({ token: z.string(), expiresAt: z.string(), scopes: z.array(z.literal('requests:read')) }) },
      },
    },
    async (request) => {
      const { token, expiresAt } = app.auth.tokens.issue(request.principal!.keyName);
      return { token, expiresAt: expiresAt.toISOString(), scopes: ['requests:read' as const] };
    },
  );

  for (const service of services) if (service.routes) await app.register(service.routes);
  return app;
}

const ReadyBody = z.object({ status: z.enum(['ready', 'not_ready']), checks: z.record(z.string(), z.boolean()) });
