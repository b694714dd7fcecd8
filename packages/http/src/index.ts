export {
  SCOPES,
  ApiKeyStore,
  createApiKey,
  generateApiKeySecret,
  hashApiKey,
  hasScope,
  parseApiKeys,
  requireScope,
  revokeApiKey,
  upsertApiKeys,
  type ApiKeySpec,
  type Principal,
  type RequireScopeOptions,
  type Scope,
} from './auth.ts';
export { HttpError, toErrorResponse, type ErrorPayload, type FieldIssue } from './errors.ts';
export { buildHttpHost, DEFAULT_BODY_LIMIT, type HttpHostOptions, type RateLimitOptions } from './host.ts';
export { decodeUtf8, findDuplicateKey, findUnstorableText, parseStrictJson } from './json.ts';
export {
  createMetricsRegistry,
  DEFAULT_PROBE_TIMEOUT_MS,
  registerProbeGauge,
  registerServiceMetrics,
  sharedProbe,
  type ProbeOptions,
  type ProbeSample,
  type ServiceMetricsOptions,
} from './metrics.ts';
export type { ServiceHandle } from './service.ts';
export { httpEnvSchema, parseEnv, parseHttpEnv, type HttpEnv } from './env.ts';
export { onShutdownSignal } from './shutdown.ts';
