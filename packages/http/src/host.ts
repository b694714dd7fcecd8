import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Pool } from 'pg';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { migrate } from '@griddispatch/db';
import { withRequestTrace, type Logger } from '@griddispatch/observability';
import { ApiKeyStore, hoistAuthentication, parseApiKeys, upsertApiKeys, type ApiKeySpec } from './auth.ts';
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
  /** Requests per window per API key (anonymous callers: per IP). */
  max: number;
  timeWindowMs: number;
}

export interface HttpHostOptions {
  pool: Pool;
  logger: Logger;
  /** Keys created/replaced at start: `GD_API_KEYS` text or parsed specs. */
  apiKeys?: string | ApiKeySpec[];
  services: ServiceHandle[];
  /** Extra readiness checks beside the database and the services, e.g. `{ bus: () => … }`. */
  readiness?: Record<string, () => Promise<boolean>>;
  /** Bytes; larger bodies get 413. Default 256 KiB. */
  bodyLimit?: number;
  /** Default 600 requests per minute per key; `false` turns limiting off. */
  rateLimit?: RateLimitOptions | false;
  /** Share a registry with other code; default: a new one with the default process metrics. */
  metrics?: Registry;
  /** OpenAPI title. */
  title?: string;
  /** How long a key lookup is cached (revocation delay). Default 10 s. */
  keyCacheTtlMs?: number;
}

const AUTH_MIGRATIONS = new URL('../migrations/', import.meta.url).pathname;
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
  await migrate(pool, { schema: 'auth', folder: AUTH_MIGRATIONS, logger });
  const keys = typeof options.apiKeys === 'string' ? parseApiKeys(options.apiKeys) : (options.apiKeys ?? []);
  await upsertApiKeys(pool, keys);

  const errorHandler = createErrorHandler(logger);
  const app = Fastify({
    // pino 10's Logger and Fastify's FastifyBaseLogger differ only in generic parameters.
    loggerInstance: logger as FastifyBaseLogger,
    // Our onResponse hook writes one line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    requestIdHeader: 'x-request-id',
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
  app.decorate('apiKeyStore', new ApiKeyStore(pool, options.keyCacheTtlMs));
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

  // Must precede the rate limiter's own onRoute hook: authentication runs first, so the limiter
  // can count per key name.
  app.addHook('onRoute', hoistAuthentication);
  if (options.rateLimit !== false) {
    const limit = options.rateLimit ?? { max: 600, timeWindowMs: 60_000 };
    await app.register(rateLimit, {
      max: limit.max,
      timeWindow: limit.timeWindowMs,
      keyGenerator: (request) => (request.principal ? `key:${request.principal.keyName}` : `ip:${request.ip}`),
      errorResponseBuilder: (_request, context) =>
        new HttpError(429, 'rate_limited', `rate limit of ${context.max} requests per ${context.after} exceeded`, {
          retryAfterSeconds: Math.ceil(context.ttl / 1000),
        }),
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.title ?? 'grid-dispatch API', version: '1.0.0' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.addHook('onResponse', async (request, reply) => {
    const line = { reqId: request.id, method: request.method, route: request.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime), key: request.principal?.keyName };
    // 5xx were logged with their error by the error handler already.
    logger.debug(line, 'request');
  });

  const ops = app.withTypeProvider<ZodTypeProvider>();
  const open = { rateLimit: false as const };
  ops.get('/healthz', { config: open, schema: { hide: true, response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }));
  ops.get(
    '/readyz',
    { config: open, schema: { hide: true, response: { 200: ReadyBody, 503: ReadyBody } } },
    async (_request, reply) => {
      const checks: Record<string, () => Promise<boolean>> = {
        database: async () => (await pool.query('SELECT 1')).rowCount === 1,
        ...Object.fromEntries(services.map((s) => [s.name, () => s.ready()])),
        ...options.readiness,
      };
      const results = Object.fromEntries(await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await withTimeout(check)] as const)));
      const ready = Object.values(results).every(Boolean);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks: results });
    },
  );
  app.get('/metrics', { config: open, schema: { hide: true } }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  for (const service of services) if (service.routes) await app.register(service.routes);
  return app;
}

const ReadyBody = z.object({ status: z.enum(['ready', 'not_ready']), checks: z.record(z.string(), z.boolean()) });
