import { z } from 'zod';
import { parseApiKeys } from './auth.ts';
import { DEFAULT_BODY_LIMIT, type RateLimitOptions } from './host.ts';

/** The host's part of the environment (docs/architecture.md#configuration), for every main.ts. */
export const httpEnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  GD_API_KEYS: z.string().optional(),
  /** Requests per window per API key; 0 turns the limit off. */
  GD_RATE_LIMIT_MAX: z.coerce.number().int().min(0).default(600),
  GD_RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1).default(60_000),
  GD_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(DEFAULT_BODY_LIMIT),
});

export interface HttpEnv {
  port: number;
  host: string;
  apiKeys: ReturnType<typeof parseApiKeys>;
  rateLimit: RateLimitOptions | false;
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

export function parseHttpEnv(env: NodeJS.ProcessEnv = process.env): HttpEnv {
  const e = parseEnv(httpEnvSchema, env, 'HTTP');
  return {
    port: e.PORT,
    host: e.HOST,
    apiKeys: parseApiKeys(e.GD_API_KEYS),
    rateLimit: e.GD_RATE_LIMIT_MAX === 0 ? false : { max: e.GD_RATE_LIMIT_MAX, timeWindowMs: e.GD_RATE_LIMIT_WINDOW_MS },
    bodyLimit: e.GD_BODY_LIMIT_BYTES,
  };
}
