import { describe, expect, it } from 'vitest';
import { distribution, formatMs, histogram, latencyWindows, percentile, saturationVerdict } from './stats.ts';

describe('distribution', () => {
  it('gives nearest-rank percentiles of what was observed', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(distribution(values)).toEqual({ count: 100, censored: 0, p50: 50, p99: 99, max: 100 });
    expect(percentile([5, 7, 9], 50)).toBe(7);
  });

  it('never reports a censored request as the slowest observed one', () => {
    // 98 dispatched within the wait, 2 never seen: p99 is "more than the wait", not 98 ms.
    const d = distribution(
      Array.from({ length: 98 }, (_, i) => i + 1),
      2,
    );
    expect(d.p50).toBe(50);
    expect(d.p99).toBeNull();
    expect(d.max).toBeNull();
    expect(d.count).toBe(100);
  });

  it('is empty without observations', () => {
    expect(distribution([])).toEqual({ count: 0, censored: 0, p50: null, p99: null, max: null });
  });
});

describe('saturationVerdict', () => {
  const ok = { offeredPerSecond: 500, achievedPerSecond: 495, dispatchP99Ms: 300, requests: 10_000, errors: 0 };

  it('keeps going while throughput and p99 hold', () => {
    expect(saturationVerdict(ok, 2000)).toEqual({ saturated: false, reasons: [] });
  });

  it('stops when throughput falls under 90 % of the offered rate', () => {
    const v = saturationVerdict({ ...ok, achievedPerSecond: 440 }, 2000);
    expect(v.saturated).toBe(true);
    expect(v.reasons[0]).toContain('< 90%');
  });

  it('stops when p99 passes the bound, or is unknown', () => {
    expect(saturationVerdict({ ...ok, dispatchP99Ms: 2500 }, 2000).saturated).toBe(true);
    expect(saturationVerdict({ ...ok, dispatchP99Ms: null }, 2000).reasons[0]).toContain('undispatched');
  });

  it('stops when more than 1 % of requests fail', () => {
    expect(saturationVerdict({ ...ok, errors: 101 }, 2000).saturated).toBe(true);
    expect(saturationVerdict({ ...ok, errors: 100 }, 2000).saturated).toBe(false);
  });
});

describe('histogram', () => {
  it('counts values into buckets named by their bounds', () => {
    expect(histogram([1, 1, 2, 4, 5, 19, 20, 500], [1, 2, 5, 20])).toEqual([
      { bucket: '1', count: 2 },
      { bucket: '2–4', count: 2 },
      { bucket: '5–19', count: 2 },
      { bucket: '≥20', count: 2 },
    ]);
  });
});

describe('formatMs', () => {
  it('reads like a person would write it', () => {
    expect(formatMs(3.14)).toBe('3.1 ms');
    expect(formatMs(250.4)).toBe('250 ms');
    expect(formatMs(1234)).toBe('1.23 s');
    expect(formatMs(null)).toBe('> wait');
  });
});

describe('latencyWindows', () => {
  it('groups latencies by their due time, counting the unmeasured as slower than all', () => {
    const samples = [
      { dueAt: 1_000, ms: 10 },
      { dueAt: 9_999, ms: 30 },
      { dueAt: 10_000, ms: 7_000 },
      { dueAt: 25_000, ms: null },
      { dueAt: 26_000, ms: 5 },
    ];
    expect(latencyWindows(samples, 0, 10_000)).toEqual([
      { fromSeconds: 0, calls: 2, censored: 0, p50: 10, p99: 30, max: 30 },
      { fromSeconds: 10, calls: 1, censored: 0, p50: 7_000, p99: 7_000, max: 7_000 },
      { fromSeconds: 20, calls: 2, censored: 1, p50: 5, p99: null, max: null },
    ]);
  });
});
