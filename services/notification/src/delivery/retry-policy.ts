import type { SendOutcome } from '../channels/types.ts';

// The retry rules of issue 6, in one pure module: retry 5xx, timeouts and 429 (honouring
// Retry-After) with exponential backoff and jitter; never retry other 4xx; 410 means "gone"; a
// vendor refusing the channel's configuration keeps the message and raises the channel alarm; a
// message only written to the log is `logged`, not delivered.

export interface RetryPolicy {
  /** Attempts in all, the first included; after the last failed one the delivery is dead. */
  maxAttempts: number;
  /** Delay before the 2nd attempt; doubles for each further attempt. */
  baseDelayMs: number;
  /** Cap on one delay (backoff and Retry-After alike). */
  maxDelayMs: number;
}

/**
 * Backoff before attempt `attempt + 1`, after `attempt` failed ones (attempt ≥ 1): "equal jitter" —
 * half of the exponential step is fixed, half random — so retries of many deliveries that failed
 * together spread out, yet the schedule keeps its exponential shape (each delay is in
 * [step/2, step]).
 */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(step / 2 + (step / 2) * r);
}

/** `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/** What an HTTP answer alone can say (no vendor refusal, no log). */
export type HttpOutcome = Exclude<SendOutcome, { kind: 'disabled' | 'logged' }>;

/** Classifies an HTTP answer of a webhook receiver or gateway. */
export function classifyHttpStatus(status: number, retryAfter: string | null, now: Date): HttpOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', statusCode: status };
  if (status === 410) return { kind: 'gone', statusCode: status, error: 'HTTP 410 Gone' };
  if (status === 429 || status === 408 || status >= 500) {
    const outcome: HttpOutcome = { kind: 'retry', statusCode: status, error: `HTTP ${status}` };
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    if (retryAfterMs !== undefined) outcome.retryAfterMs = retryAfterMs;
    return outcome;
  }
  // 3xx are not followed (a receiver must answer at the URL it registered) and 4xx will not change.
  return { kind: 'permanent', statusCode: status, error: `HTTP ${status}` };
}

/** Outcome of a request that got no HTTP answer at all (timeout, refused, reset, DNS). */
export function networkFailure(err: unknown): SendOutcome {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return { kind: 'retry', statusCode: null, error: 'timeout' };
  const detail = e.code ?? e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
  return { kind: 'retry', statusCode: null, error: `network error: ${detail}` };
}

/**
 * A vendor SDK's call that got no answer. Their errors' messages carry the request URL — with the
 * phone number in its query — so only a timeout or the system error code is kept.
 */
export function sdkNetworkFailure(err: unknown): SendOutcome {
  const e = err as { code?: unknown; message?: unknown } | null;
  const message = String(e?.message ?? '');
  if (/timeout/i.test(message)) return { kind: 'retry', statusCode: null, error: 'timeout' };
  const code = typeof e?.code === 'string' && /^E[A-Z_]+$/.test(e.code) ? e.code : /\bE[A-Z]{3,}[A-Z_]*\b/.exec(message)?.[0];
  return { kind: 'retry', statusCode: null, error: code ? `network error: ${code}` : 'network error' };
}

export type NextStep =
  | { status: 'delivered' }
  | { status: 'logged' }
  /** `refused`: the vendor refused our configuration (the alarm's reason, and what it covers). */
  | { status: 'pending'; nextAttemptAt: Date; refused?: { reason: string; scope: 'channel' | 'template' } }
  | { status: 'failed'; disableSubscription: boolean }
  | { status: 'dead' };

/** What becomes of a delivery after its `attempts`-th attempt ended with `outcome`. */
export function nextStep(policy: RetryPolicy, outcome: SendOutcome, attempts: number, now: Date, random: () => number): NextStep {
  switch (outcome.kind) {
    case 'delivered':
      return { status: 'delivered' };
    case 'logged':
      return { status: 'logged' };
    case 'disabled': {
      // Not this message's fault, so not its end: it waits on the backoff for the operator's fix
      // (new credentials at a restart, a signature approved) and is dead only after the last attempt.
      if (attempts >= policy.maxAttempts) return { status: 'dead' };
      const refused = { reason: outcome.error, scope: outcome.scope };
      return { status: 'pending', nextAttemptAt: new Date(now.getTime() + backoffDelayMs(policy, attempts, random)), refused };
    }
    case 'permanent':
      return { status: 'failed', disableSubscription: false };
    case 'gone':
      return { status: 'failed', disableSubscription: true };
    case 'retry': {
      if (attempts >= policy.maxAttempts) return { status: 'dead' };
      const delay = outcome.retryAfterMs !== undefined ? Math.min(policy.maxDelayMs, outcome.retryAfterMs) : backoffDelayMs(policy, attempts, random);
      return { status: 'pending', nextAttemptAt: new Date(now.getTime() + delay) };
    }
  }
}
