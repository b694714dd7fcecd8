import { DlqHeaders, type SubscribeOptions } from './types.ts';

// Pieces of the delivery loop both buses share, so retries, backoff and DLQ headers cannot drift
// apart between the embedded and the distributed mode.

export const DEFAULTS = {
  maxAttempts: 5,
  retryBackoffMs: 100,
  maxRetryBackoffMs: 30_000,
  concurrency: 3,
  maxBatchSize: 500,
} as const;

export function maxBatchSize(options: SubscribeOptions): number {
  return Math.max(1, options.maxBatchSize ?? DEFAULTS.maxBatchSize);
}

export interface RetryPolicy {
  maxAttempts: number;
  retryBackoffMs: number;
  maxRetryBackoffMs: number;
}

export function retryPolicy(options: SubscribeOptions): RetryPolicy {
  return {
    maxAttempts: Math.max(1, options.maxAttempts ?? DEFAULTS.maxAttempts),
    retryBackoffMs: Math.max(0, options.retryBackoffMs ?? DEFAULTS.retryBackoffMs),
    maxRetryBackoffMs: Math.max(0, options.maxRetryBackoffMs ?? DEFAULTS.maxRetryBackoffMs),
  };
}

/**
 * Delay before attempt `failedAttempt + 1`: exponential, capped, with "equal jitter" (half fixed,
 * half random) so replicas that failed together do not retry in lockstep.
 */
export function backoffDelay(policy: RetryPolicy, failedAttempt: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxRetryBackoffMs, policy.retryBackoffMs * 2 ** (failedAttempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/** A malformed record fails the same way on every attempt: straight to the DLQ. */
export function isPermanentError(err: unknown): boolean {
  return err instanceof Error && err.name === 'InvalidEventError';
}

// A handler whose database (or other dependency) is unreachable fails for every record alike: the
// records are healthy, and dead-lettering them would empty the partition into the DLQ during a
// restart of PostgreSQL. Such errors are retried until the dependency answers (or the consumer
// stops), without using up the record's attempts; the partition waits, as it must to keep order.
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
// PostgreSQL SQLSTATEs: class 08 connection exception; 57P01–57P03 the server shutting down,
// crashed or starting up; 53300 too many connections.
const UNREACHABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;
// node-postgres reports a dropped connection or a pool timeout without a code.
const UNREACHABLE_MESSAGE = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/** Delays between retries of such errors stay short: the handler resumes soon after the dependency is back. */
export const UNREACHABLE_MAX_BACKOFF_MS = 5_000;

/** True when `err` (or an error it wraps) says a dependency is unreachable rather than the record bad. */
export function isDependencyUnavailable(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 5) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || UNREACHABLE_SQLSTATE.test(code))) return true;
  if (UNREACHABLE_MESSAGE.test(err.message)) return true;
  if (err instanceof AggregateError && err.errors.some((e) => isDependencyUnavailable(e, depth + 1))) return true;
  return isDependencyUnavailable(err.cause, depth + 1);
}

/** Whether a record whose handler failed with `err` on `attempt` goes to the DLQ now. */
export function deadLetterNow(policy: RetryPolicy, err: unknown, attempt: number): boolean {
  if (isPermanentError(err)) return true;
  return attempt >= policy.maxAttempts && !isDependencyUnavailable(err);
}

/** Delay before the next attempt after `err`. */
export function retryDelay(policy: RetryPolicy, err: unknown, failedAttempt: number, random: () => number = Math.random): number {
  if (!isDependencyUnavailable(err)) return backoffDelay(policy, failedAttempt, random);
  return backoffDelay({ ...policy, maxRetryBackoffMs: Math.min(policy.maxRetryBackoffMs, UNREACHABLE_MAX_BACKOFF_MS) }, Math.min(failedAttempt, 30), random);
}

export function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  // Headers travel with every fetch of the DLQ record; a stack trace belongs in the log.
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}

export interface DlqSource {
  /** Full topic name (prefix included), as operators see it in Kafka tools. */
  topic: string;
  partition: number;
  offset: string;
  groupId: string;
}

export function dlqHeaders(original: Record<string, string>, err: unknown, attempts: number, source: DlqSource, now = new Date()): Record<string, string> {
  return {
    ...original,
    [DlqHeaders.error]: errorText(err),
    [DlqHeaders.errorName]: err instanceof Error ? err.name : typeof err,
    [DlqHeaders.attempts]: String(attempts),
    [DlqHeaders.sourceTopic]: source.topic,
    [DlqHeaders.sourcePartition]: String(source.partition),
    [DlqHeaders.sourceOffset]: source.offset,
    [DlqHeaders.groupId]: source.groupId,
    [DlqHeaders.failedAt]: now.toISOString(),
  };
}

/** Resolves after `ms`, or at once when `signal` aborts (a stopping consumer skips its backoff). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The partition a key lands on: murmur2, as Kafka's default partitioner (and kafkajs') does. */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key)) & 0x7fffffff) % partitions;
}

function murmur2(data: Buffer): number {
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  const length = data.length;
  let h = seed ^ length;
  const whole = length - (length % 4);
  for (let i = 0; i < whole; i += 4) {
    let k = data.readInt32LE(i);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length % 4;
  if (rest === 3) h ^= (data[whole + 2] ?? 0) << 16;
  if (rest >= 2) h ^= (data[whole + 1] ?? 0) << 8;
  if (rest >= 1) {
    h ^= data[whole] ?? 0;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}
