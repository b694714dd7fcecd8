import { describe, expect, it } from 'vitest';
import { RateLimiter, TokenBucket, parseRate } from './rate-limiter.ts';

function clock(start = Date.parse('2026-11-23T06:00:00Z')) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) };
}

describe('parseRate', () => {
  it('reads per-second, per-minute and per-hour rates', () => {
    expect(parseRate('20/m')).toEqual({ tokens: 20, perMs: 60_000 });
    expect(parseRate('50/s')).toEqual({ tokens: 50, perMs: 1000 });
    expect(parseRate('1000/h')).toEqual({ tokens: 1000, perMs: 3_600_000 });
    expect(parseRate('unlimited')).toBeNull();
    expect(parseRate('0')).toBeNull();
    expect(() => parseRate('fast')).toThrow(/invalid rate/);
  });
});

describe('TokenBucket', () => {
  it('allows a burst up to capacity, then queues each caller one interval behind the previous', () => {
    const c = clock();
    const bucket = new TokenBucket({ tokens: 20, perMs: 60_000 }, c.now);
    for (let i = 0; i < 20; i++) expect(bucket.reserve()).toBe(0);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([3000, 6000, 9000]);
    c.advance(9000);
    expect(bucket.reserve()).toBe(3000); // the three reserved tokens were the ones that came meanwhile
    c.advance(3000);
    expect(bucket.reserve()).toBe(3000);
  });

  it('does not grow past its capacity while idle', () => {
    const c = clock();
    const bucket = new TokenBucket({ tokens: 2, perMs: 1000 }, c.now);
    c.advance(60_000);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 500]);
  });

  it('tells how long until n tokens are there, at most a full bucket', () => {
    const c = clock();
    const bucket = new TokenBucket({ tokens: 50, perMs: 1000 }, c.now);
    bucket.take(50);
    expect([bucket.untilNext(), bucket.untilNext(8), bucket.untilNext(500)]).toEqual([20, 160, 1000]);
    c.advance(100);
    expect([bucket.peek(8), bucket.untilNext(8)]).toEqual([5, 60]);
  });
});

describe('RateLimiter', () => {
  it('limits only the channels it has a rate for', () => {
    const c = clock();
    const limiter = new RateLimiter<'sms' | 'log'>({ sms: { tokens: 1, perMs: 1000 }, log: null }, c.now);
    expect(limiter.reserve('sms')).toBe(0);
    expect(limiter.reserve('sms')).toBe(1000);
    for (let i = 0; i < 100; i++) expect(limiter.reserve('log')).toBe(0);
  });

  it('keeps one bucket per scope (each WeCom robot has its own limit)', () => {
    const c = clock();
    const limiter = new RateLimiter<'wecom'>({ wecom: { tokens: 1, perMs: 60_000 } }, c.now);
    expect(limiter.reserve('wecom', 'robot-a')).toBe(0);
    expect(limiter.reserve('wecom', 'robot-a')).toBe(60_000);
    expect(limiter.reserve('wecom', 'robot-b')).toBe(0);
  });
});
