export {
  SCOPES,
  ApiKeyStore,
  createApiKey,
  generateApiKeySecret,
  hashApiKey,
  hasScope,
  listApiKeys,
  mayUseSource,
  parseApiKeys,
  requireScope,
  requireSource,
  revokeApiKey,
  type ApiKeySpec,
  type Principal,
  type RequireScopeOptions,
  type Scope,
} from './auth.ts';
export { keyGridLimits, resolveKeyPepper, syncApiKeys, type ApiKeyRow, type KeySyncResult, type NewKeyOptions } from './key-store.ts';
export { DEV_SECRET, secretStrengthProblem } from './keys.ts';
export { HttpError, toErrorResponse, type ErrorPayload, type FieldIssue } from './errors.ts';
export {
  buildHttpHost,
  migrateAuth,
  DEFAULT_AUTH_FAILURES_PER_MINUTE,
  DEFAULT_BODY_LIMIT,
  DEFAULT_RATE_PER_MINUTE,
  type HttpHostOptions,
  type RateLimitOptions,
} from './host.ts';
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
export {
  envFlag,
  envJson,
  envLoader,
  envParsed,
  envTimeZone,
  hostOptions,
  httpEnvSchema,
  parseEnv,
  parseHttpEnv,
  parseServiceHttpEnv,
  type HttpEnv,
  type ParseHttpEnvOptions,
} from './env.ts';
export { onShutdownSignal } from './shutdown.ts';
export { runServiceProcess, type ServiceDeps, type ServiceProcessOptions } from './service-process.ts';
