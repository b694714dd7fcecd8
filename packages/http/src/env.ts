import { z } from 'zod';
import { parseApiKeys, type ApiKeySpec } from './keys.ts';
import { DEFAULT_AUTH_FAILURES_PER_MINUTE, DEFAULT_BODY_LIMIT, DEFAULT_RATE_PER_MINUTE, type RateLimitOptions } from './host.ts';

// Pieces of the services' env schemas (services/*/src/config.ts), written once here beside parseEnv.

/** On or off: `1`/`0` (`true`/`false` too). */
export const envFlag = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');

/** An IANA time zone name (`Asia/Shanghai`), as the platform's Intl knows it. */
export const envTimeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'unknown IANA time zone');

/**
 * Text read by a parser that throws on bad input (a duration, a rate): its value is the parser's
 * result, and the parser's error message becomes the variable's issue.
 */
export function envParsed<T>(parse: (text: string) => T) {
  return z.string().transform((text, ctx): T => {
    try {
      return parse(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

/** JSON text whose value must match `schema`; each mismatch is named by its path. */
export function envJson<T extends z.ZodType>(schema: T) {
  return z.string().transform((text, ctx): z.output<T> => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
      return z.NEVER;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
      return z.NEVER;
    }
    return parsed.data;
  });
}

/** The host's part of the environment (docs/architecture.md#configuration), for every main.ts. */
export const httpEnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  GD_API_KEYS: z.string().optional(),
  /** HMAC key for stored API keys; required by the distributed processes (parseServiceHttpEnv). */
  GD_KEY_PEPPER: z.string().min(32, 'must be at least 32 characters (openssl rand -base64 32)').optional(),
  /** Requests per minute for keys without their own `N/min`; 0 turns the limit off. */
  GD_RATE_LIMIT_MAX: z.coerce.number().int().min(0).default(DEFAULT_RATE_PER_MINUTE),
  GD_RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).default(60_000),
  /** Failed authentications per client address per minute; 0 turns the limit off. */
  GD_AUTH_FAILURE_LIMIT: z.coerce.number().int().min(0).default(DEFAULT_AUTH_FAILURES_PER_MINUTE),
  /** Serve /docs (Swagger UI and the OpenAPI document); default per entry point. */
  GD_DOCS: envFlag.optional(),
  /** Reverse proxies whose X-Forwarded-For is believed (addresses or CIDRs, comma-separated). */
  GD_TRUST_PROXY: z.string().optional(),
  GD_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(DEFAULT_BODY_LIMIT),
});

export interface HttpEnv {
  port: number;
  host: string;
  apiKeys: ApiKeySpec[];
  keyPepper: string | undefined;
  rateLimit: RateLimitOptions | false;
  authFailuresPerMinute: number;
  docs: boolean;
  trustProxy: string | undefined;
  bodyLimit: number;
}

/**
 * A service's environment through its schema, read once at boot. An empty variable counts as
 * unset; every bad value is named in one error, so the process stops with all of them at once.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>, what: string): z.infer<S> {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new Error(`${what} configuration is invalid:\n${lines.join('\n')}`);
}

/** A service's `loadConfig`: its environment (`process.env` unless given) through its schema, by `parseEnv`. */
export function envLoader<S extends z.ZodType>(schema: S, what: string): (env?: Record<string, string | undefined>) => z.infer<S> {
  return (env = process.env) => parseEnv(schema, env, what);
}

export interface ParseHttpEnvOptions {
  /** The embedded start on 127.0.0.1 without GD_API_KEYS: its `dev-secret` key is allowed. */
  allowDevSecret?: boolean;
  /** /docs when GD_DOCS is unset. Default false. */
  docsByDefault?: boolean;
}

export function parseHttpEnv(env: NodeJS.ProcessEnv = process.env, options: ParseHttpEnvOptions = {}): HttpEnv {
  const e = parseEnv(httpEnvSchema, env, 'HTTP');
  return {
    port: e.PORT,
    host: e.HOST,
    apiKeys: parseApiKeys(e.GD_API_KEYS, { allowDevSecret: options.allowDevSecret }),
    keyPepper: e.GD_KEY_PEPPER,
    rateLimit: e.GD_RATE_LIMIT_MAX === 0 ? false : { max: e.GD_RATE_LIMIT_MAX, timeWindowMs: e.GD_RATE_LIMIT_WINDOW_MS },
    authFailuresPerMinute: e.GD_AUTH_FAILURE_LIMIT,
    docs: e.GD_DOCS ?? options.docsByDefault ?? false,
    trustProxy: e.GD_TRUST_PROXY,
    bodyLimit: e.GD_BODY_LIMIT_BYTES,
  };
}

/**
 * A distributed service process (services/<name>/src/main.ts): it listens on the network with
 * no development defaults, so it refuses to start without GD_API_KEYS and GD_KEY_PEPPER.
 */
export function parseServiceHttpEnv(env: NodeJS.ProcessEnv = process.env): HttpEnv {
  const missing = ['GD_API_KEYS', 'GD_KEY_PEPPER'].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(' and ')} must be set: a service process has no default key (the development key exists only in \`griddispatch start\` on 127.0.0.1). ` +
        'GD_API_KEYS=name:secret:scope+scope[:source+source][:N/min],… (secrets: `openssl rand -hex 16` or longer); GD_KEY_PEPPER: `openssl rand -base64 32`, the same for every process',
    );
  }
  const http = parseHttpEnv(env);
  if (http.apiKeys.length === 0) throw new Error('GD_API_KEYS lists no key');
  return http;
}

/** The HttpEnv fields buildHttpHost takes. */
export function hostOptions(http: HttpEnv) {
  return {
    apiKeys: http.apiKeys,
    keyPepper: http.keyPepper,
    rateLimit: http.rateLimit,
    authFailuresPerMinute: http.authFailuresPerMinute,
    docs: http.docs,
    trustProxy: http.trustProxy,
    bodyLimit: http.bodyLimit,
  };
}
