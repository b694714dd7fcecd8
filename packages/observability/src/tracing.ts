import { randomUUID } from 'node:crypto';
import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';

// Trace context travels in Kafka headers (`traceparent`, W3C) and in the CloudEvent's
// `traceparent` extension, so one trace follows a request through all four services.

type Carrier = Record<string, string>;

/** The W3C traceparent of the active span, if any. */
export function currentTraceparent(): string | undefined {
  const carrier: Carrier = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** Headers carrying the active trace context, to add to an outgoing Kafka record. */
export function traceHeaders(): Carrier {
  const carrier: Carrier = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Context extracted from an incoming record's headers, to run its handler in. */
export function contextFromHeaders(headers: Carrier): Context {
  return propagation.extract(context.active(), headers);
}

/** Runs `fn` inside a span that continues the trace carried by `headers`. */
export async function withConsumerSpan<T>(name: string, headers: Carrier, fn: () => Promise<T>): Promise<T> {
  const tracer = trace.getTracer('griddispatch');
  return context.with(contextFromHeaders(headers), () => tracer.startActiveSpan(name, (span) => endAfter(span, fn)));
}

/**
 * Runs `fn` (a call out of the system: a webhook POST, an SMS, a robot message) in a client span
 * continuing the trace `traceparent` names (a stored event's), so the send is part of the
 * request's trace and `currentTraceparent()` inside `fn` is the header to pass on.
 */
export async function withClientSpan<T>(name: string, traceparent: string | null | undefined, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  const tracer = trace.getTracer('griddispatch');
  const parent = traceparent ? contextFromHeaders({ traceparent }) : ROOT_CONTEXT;
  return context.with(parent, () => tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, (span) => endAfter(span, fn)));
}

/** Runs `fn`, records what it throws on `span`, and ends the span either way. */
async function endAfter<T>(span: Span, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    span.recordException(err as Error);
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Runs `fn` inside one span for a batch of records (its transaction), linked to each record's
 * trace; each record's effect then gets a span of its own in its trace (`withConsumerSpan`).
 */
export async function withBatchSpan<T>(name: string, headers: Carrier[], fn: () => Promise<T>): Promise<T> {
  const tracer = trace.getTracer('griddispatch');
  const links: Link[] = [];
  for (const carrier of headers) {
    const linked = trace.getSpanContext(contextFromHeaders(carrier));
    if (linked) links.push({ context: linked });
  }
  return tracer.startActiveSpan(name, { links, attributes: { 'messaging.batch.message_count': headers.length } }, (span) => endAfter(span, fn));
}

/**
 * Random hex digits for a trace or span id, from a UUID: Node draws those from a buffer it refills
 * 128 at a time, where randomBytes asks the kernel on every call (2.7 % of intake's CPU in the
 * storm profile, two calls per request). A v4 UUID's fixed version and variant digits are harmless
 * in an id that only has to be unique.
 */
function randomHex(digits: 16 | 32): string {
  return randomUUID().replaceAll('-', '').slice(0, digits);
}

/**
 * Runs `fn` (the rest of an HTTP request's handling) in a trace: the caller's `traceparent` or a
 * new trace, with a span id of its own. When the HTTP instrumentation runs (an exporter is
 * configured) it opened a real server span already, and this does nothing; otherwise it costs two
 * random ids and no span object, so intake's events still carry a trace for routing to continue.
 */
export function withRequestTrace<T>(headers: Record<string, string | string[] | undefined>, fn: () => T): T {
  if (trace.getActiveSpan()) return fn();
  const parent = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, headers));
  const continued = parent !== undefined && isSpanContextValid(parent);
  const spanContext = {
    traceId: continued ? parent.traceId : randomHex(32),
    spanId: randomHex(16),
    traceFlags: continued ? parent.traceFlags : TraceFlags.SAMPLED,
  };
  return context.with(trace.setSpanContext(context.active(), spanContext), fn);
}
