import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';
import type { NodeSDK, tracing } from '@opentelemetry/sdk-node';

// The OpenTelemetry SDK of one service process (distributed mode). What it gives us:
// - the W3C trace-context propagator, so `traceHeaders()` / `withConsumerSpan()` (tracing.ts)
//   write and read `traceparent` on Kafka records;
// - a tracer provider, so spans have real ids and intake's events carry a trace;
// - when an exporter is configured (OTEL_EXPORTER_OTLP_ENDPOINT, the traces-specific endpoint, or
//   OTEL_TRACES_EXPORTER), export per the standard OTEL_* variables and the HTTP instrumentation:
//   an incoming request opens a server span, an outgoing call (webhook, SMS) a client span.
// Without an exporter nothing leaves the process and nothing is instrumented (no patched `http`,
// no span per request): the host continues the caller's `traceparent` with two random ids
// (`withRequestTrace`), so a trace can still be followed through the Kafka records.
// kafkajs is deliberately not auto-instrumented: its producer span would replace the
// `traceparent` header the outbox row carries with the relay's own (unrelated) context.

export interface TelemetryOptions {
  serviceName: string;
  env?: NodeJS.ProcessEnv;
}

export interface Telemetry {
  /** True when spans are exported (an exporter is configured) and HTTP is instrumented. */
  exporting: boolean;
  /** Flushes and stops the SDK; call after the service stopped. */
  shutdown(): Promise<void>;
}

const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Query parameters whose values never reach a span (`url.query`, `url.full`): API keys
 * (Open311's `api_key`, old board links' `key`), stream tokens, and the keys of outgoing
 * webhook URLs (a WeCom robot is addressed by `?key=`).
 */
export const REDACTED_QUERY_PARAMS = ['key', 'api_key', 'apikey', 'token', 'access_token', 'sig', 'signature'];

/** `a=1&key=secret` → `a=1&key=REDACTED`, parameter names kept, matched case-insensitively. */
export function redactQuery(query: string): string {
  const params = new URLSearchParams(query);
  for (const name of new Set(params.keys())) {
    if (REDACTED_QUERY_PARAMS.includes(name.toLowerCase())) params.set(name, 'REDACTED');
  }
  return params.toString();
}

/** Spans get ids and are propagated, but go nowhere. */
const noExport: tracing.SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

/** An exporter is configured: an OTLP endpoint, or OTEL_TRACES_EXPORTER (other than `none`). */
export function exporterConfigured(env: NodeJS.ProcessEnv): boolean {
  const traces = env.OTEL_TRACES_EXPORTER?.trim();
  if (traces === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || traces);
}

async function httpInstrumentation() {
  const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
  return new HttpInstrumentation({
    ignoreIncomingRequestHook: (request: IncomingMessage) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0] ?? ''),
    // The instrumentation's own redaction matches names case-sensitively; the hook's
    // attributes are applied last, so `url.query` is ours.
    redactedQueryParams: REDACTED_QUERY_PARAMS,
    redactedQueryParamsServer: REDACTED_QUERY_PARAMS,
    startIncomingSpanHook: (request: IncomingMessage) => {
      const at = (request.url ?? '').indexOf('?');
      return at < 0 ? {} : { 'url.query': redactQuery((request.url ?? '').slice(at + 1)) };
    },
    // Outgoing calls (webhooks, SMS, WeCom) are traced only inside a trace, not as new roots.
    requireParentforOutgoingSpans: true,
  });
}

/**
 * Starts the SDK (the first thing a main.ts does after its imports). Loaded lazily: the SDK is
 * heavy and only distributed processes want it. `OTEL_SDK_DISABLED=true` turns it all off.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const env = options.env ?? process.env;
  const exporting = exporterConfigured(env);
  const { NodeSDK, tracing: sdkTracing } = await import('@opentelemetry/sdk-node');
  const sdk: NodeSDK = exporting
    ? new NodeSDK({ serviceName: env.OTEL_SERVICE_NAME ?? options.serviceName, instrumentations: [await httpInstrumentation()] })
    : // Keep the tracer provider and the W3C propagator, so every consumer span still gets an id of
      // its own in the record's trace, but record nothing: spans nobody exports are not built
      // (the profile showed span objects at ~10 % of a consumer's CPU). No metric or log
      // exporters either (Prometheus metrics come from prom-client).
      new NodeSDK({
        serviceName: options.serviceName,
        instrumentations: [],
        sampler: new sdkTracing.AlwaysOffSampler(),
        spanProcessors: [noExport],
        metricReaders: [],
        logRecordProcessors: [],
      });
  sdk.start();
  if (exporting) {
    // The instrumentation patches `http` when it is next required. Static imports ran before this
    // function (ESM hoists them), so require it once now: the patch goes on the module's shared
    // Server prototype, which the host's Fastify server uses.
    createRequire(import.meta.url)('node:http');
  }
  let stopped: Promise<void> | null = null;
  return {
    exporting,
    shutdown() {
      stopped ??= sdk.shutdown();
      return stopped;
    },
  };
}
