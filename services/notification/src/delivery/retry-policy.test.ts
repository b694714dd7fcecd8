import { describe, expect, it } from 'vitest';
import { backoffDelayMs, classifyHttpStatus, networkFailure, nextStep, parseRetryAfter, type RetryPolicy } from './retry-policy.ts';

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000 };
const now = new Date('2026-11-23T06:00:00.000Z');

describe('backoff', () => {
  it('doubles the step per attempt and keeps the jitter within [step/2, step]', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelayMs(policy, a, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((a) => backoffDelayMs(policy, a, () => 0))).toEqual([500, 1000, 2000, 4000]);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelayMs(policy, 3, Math.random);
      expect(d).toBeGreaterThanOrEqual(2000);
      expect(d).toBeLessThanOrEqual(4000);
    }
  });

  it('never waits longer than the cap', () => {
    expect(backoffDelayMs(policy, 30, () => 1)).toBe(60_000);
  });
});

describe('Retry-After', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 06:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 05:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('HTTP classification', () => {
  it.each([
    [200, 'delivered'],
    [204, 'delivered'],
    [500, 'retry'],
    [503, 'retry'],
    [429, 'retry'],
    [408, 'retry'],
    [410, 'gone'],
    [400, 'permanent'],
    [401, 'permanent'],
    [404, 'permanent'],
    [301, 'permanent'],
  ])('HTTP %i → %s', (status, kind) => {
    expect(classifyHttpStatus(status, null, now).kind).toBe(kind);
  });

  it('carries Retry-After of a 429', () => {
    expect(classifyHttpStatus(429, '12', now)).toEqual({ kind: 'retry', statusCode: 429, error: 'HTTP 429', retryAfterMs: 12_000 });
  });

  it('treats timeouts and refused connections as transient', () => {
    expect(networkFailure(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toMatchObject({ kind: 'retry', error: 'timeout' });
    expect(networkFailure(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }))).toMatchObject({
      kind: 'retry',
      error: 'network error: ECONNREFUSED',
    });
    expect(networkFailure(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toMatchObject({ error: 'network error: ECONNRESET' });
  });
});

describe('next step', () => {
  it('schedules a retry, honours Retry-After, and dead-letters after the last attempt', () => {
    const retry = { kind: 'retry', statusCode: 500, error: 'HTTP 500' } as const;
    expect(nextStep(policy, retry, 1, now, () => 1)).toEqual({ status: 'pending', nextAttemptAt: new Date(now.getTime() + 1000) });
    expect(nextStep(policy, { ...retry, retryAfterMs: 9000 }, 1, now, () => 1)).toEqual({
      status: 'pending',
      nextAttemptAt: new Date(now.getTime() + 9000),
    });
    expect(nextStep(policy, retry, 5, now, () => 1)).toEqual({ status: 'dead' });
  });

  it('fails permanently on 4xx and disables the subscription on 410', () => {
    expect(nextStep(policy, { kind: 'permanent', statusCode: 400, error: 'HTTP 400' }, 1, now, Math.random)).toEqual({
      status: 'failed',
      disableSubscription: false,
    });
    expect(nextStep(policy, { kind: 'gone', statusCode: 410, error: 'gone' }, 1, now, Math.random)).toEqual({
      status: 'failed',
      disableSubscription: true,
    });
  });

  it("keeps a message the vendor refused for the channel's configuration, raising the alarm, until the last attempt", () => {
    const refused = { kind: 'disabled', statusCode: 200, error: 'tencent AuthFailure.SignatureFailure: …', scope: 'channel' } as const;
    expect(nextStep(policy, refused, 1, now, () => 1)).toEqual({
      status: 'pending',
      nextAttemptAt: new Date(now.getTime() + 1000),
      refused: { reason: 'tencent AuthFailure.SignatureFailure: …', scope: 'channel' },
    });
    expect(nextStep(policy, refused, 5, now, () => 1)).toEqual({ status: 'dead' });
  });

  it('records a message written to the log as logged, not delivered', () => {
    expect(nextStep(policy, { kind: 'logged', statusCode: null }, 1, now, Math.random)).toEqual({ status: 'logged' });
  });
});
