import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isDependencyUnavailable } from '@griddispatch/bus';
import type { Logger } from '@griddispatch/observability';

/**
 * The one error type route code throws. Everything a client sees goes through `errorHandler`
 * as `{ error: { code, message, details? } }` (docs/architecture.md#http-api).
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export interface ErrorPayload {
  error: { code: string; message: string; details?: unknown };
}

export interface FieldIssue {
  /** Where the field lives: body, querystring, params, headers. */
  in: string;
  /** Dotted path of the field, e.g. `location.lat`; empty for the whole document. */
  path: string;
  message: string;
}

function payload(code: string, message: string, details?: unknown): ErrorPayload {
  return details === undefined ? { error: { code, message } } : { error: { code, message, details } };
}

// Fastify's own error codes for what the client sent wrong, mapped to ours.
const FASTIFY_CODES: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large', message: 'request body is larger than allowed' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', message: 'send the body as application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_request' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json', message: 'body is empty but content-type is application/json' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json' },
  FST_ERR_CTP_EMPTY_TYPE: { status: 415, code: 'unsupported_media_type', message: 'send the body as application/json' },
  FST_ERR_CTP_INVALID_TYPE: { status: 415, code: 'unsupported_media_type', message: 'send the body as application/json' },
};

function validationIssues(err: FastifyError): FieldIssue[] {
  const where = err.validationContext ?? 'body';
  if (hasZodFastifySchemaValidationErrors(err)) {
    return err.validation.map((v) => ({
      in: where,
      path: v.instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.'),
      message: v.message ?? 'invalid',
    }));
  }
  return (err.validation ?? []).map((v) => ({
    in: where,
    path: v.instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.'),
    message: v.message ?? 'invalid',
  }));
}

export function toErrorResponse(err: FastifyError | HttpError | Error): { status: number; body: ErrorPayload; internal: boolean } {
  if (err instanceof HttpError) {
    return { status: err.statusCode, body: payload(err.code, err.message, err.details), internal: err.statusCode >= 500 };
  }
  const fe = err as FastifyError;
  if (fe.validation) {
    const issues = validationIssues(fe);
    const first = issues[0];
    const message = first ? `${first.path || first.in}: ${first.message}` : 'request is invalid';
    return { status: 400, body: payload('validation_failed', message, issues), internal: false };
  }
  const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (known) return { status: known.status, body: payload(known.code, known.message ?? fe.message), internal: false };
  if (fe instanceof SyntaxError || fe.name === 'SyntaxError') {
    return { status: 400, body: payload('invalid_json', fe.message), internal: false };
  }
  const status = fe.statusCode ?? 500;
  // PostgreSQL restarting or failing over, the pool exhausted: the caller should retry, not page
  // anyone about a bug. Nothing was stored (the transaction did not commit).
  if (status >= 500 && isDependencyUnavailable(err)) {
    return {
      status: 503,
      body: payload('unavailable', `temporarily unavailable: the database is not answering; retry in ${RETRY_AFTER_S} s`),
      internal: false,
    };
  }
  if (status >= 400 && status < 500) {
    const code = status === 429 ? 'rate_limited' : status === 404 ? 'not_found' : 'bad_request';
    return { status, body: payload(code, fe.message), internal: false };
  }
  return { status: 500, body: payload('internal', 'internal error; the incident was logged'), internal: true };
}

/** Seconds a caller is told to wait when the database is away (a restart takes a few). */
const RETRY_AFTER_S = 5;

/** One error handler for the whole host; 5xx internals are logged, never sent. */
export function createErrorHandler(logger: Logger) {
  return function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    const { status, body, internal } = toErrorResponse(err);
    const where = { reqId: request.id, method: request.method, route: request.routeOptions.url };
    if (internal) logger.error({ err, ...where }, 'request failed');
    if (status === 401) void reply.header('www-authenticate', 'Bearer');
    const retryAfter = (body.error.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (status === 429 && typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
    if (status === 503) {
      logger.warn({ err: err.message, ...where }, 'request refused: the database is not answering');
      void reply.header('retry-after', String(RETRY_AFTER_S));
    }
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  };
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send(payload('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`));
}
