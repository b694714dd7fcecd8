// Numbers for the end-to-end benchmark: percentiles that stay honest about requests that never
// finished within the wait (they count as slower than everything observed), and the saturation rule.

/** Nearest-rank percentile of ascending values (0 for none). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface Distribution {
  /** Observations, censored ones included. */
  count: number;
  /** Observations that did not complete within the wait: slower than any observed value, value unknown. */
  censored: number;
  /** Milliseconds; null when the percentile falls among the censored observations. */
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/**
 * p50/p99/max of `values` plus `censored` observations known only to be larger than every value
 * (a request still not dispatched when the wait ended). A percentile whose rank lands among the
 * censored ones is null ("more than the wait"), never the largest observed value.
 */
export function distribution(values: readonly number[], censored = 0): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const count = sorted.length + censored;
  const at = (p: number): number | null => {
    if (count === 0) return null;
    const rank = Math.min(count, Math.max(1, Math.ceil((p / 100) * count)));
    return rank <= sorted.length ? sorted[rank - 1]! : null;
  };
  return {
    count,
    censored,
    p50: at(50),
    p99: at(99),
    max: censored > 0 ? null : (sorted[sorted.length - 1] ?? null),
  };
}

/** One window of a run: the calls due in it and how long they took. */
export interface LatencyWindow {
  /** Seconds from the first call's due time to the window's start. */
  fromSeconds: number;
  calls: number;
  /** Calls of the window never measured (not answered or not dispatched): in the percentiles as slower than all. */
  censored: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/**
 * Latencies by the due time of their call, in windows of `windowMs` from `startAt`: whether a run
 * stayed within a bound throughout, not just on the whole. `null` latencies are censored.
 */
export function latencyWindows(samples: readonly { dueAt: number; ms: number | null }[], startAt: number, windowMs: number): LatencyWindow[] {
  const windows: { values: number[]; censored: number }[] = [];
  for (const { dueAt, ms } of samples) {
    const i = Math.max(0, Math.floor((dueAt - startAt) / windowMs));
    while (windows.length <= i) windows.push({ values: [], censored: 0 });
    if (ms === null) windows[i]!.censored += 1;
    else windows[i]!.values.push(ms);
  }
  return windows.map(({ values, censored }, i) => {
    const { count, p50, p99, max } = distribution(values, censored);
    return { fromSeconds: (i * windowMs) / 1000, calls: count, censored, p50, p99, max };
  });
}

export interface StepVerdict {
  saturated: boolean;
  reasons: string[];
}

/**
 * The rate ladder stops at the first step where the system no longer keeps up: end-to-end
 * throughput below 90 % of the offered rate, dispatch p99 above the bound (or unknown because
 * requests were still undispatched when the wait ended), or more than 1 % of requests refused.
 */
export function saturationVerdict(
  step: {
    offeredPerSecond: number;
    achievedPerSecond: number;
    dispatchP99Ms: number | null;
    requests: number;
    errors: number;
  },
  p99BoundMs: number,
): StepVerdict {
  const reasons: string[] = [];
  if (step.achievedPerSecond < 0.9 * step.offeredPerSecond) {
    reasons.push(`achieved ${step.achievedPerSecond.toFixed(0)}/s < 90% of offered ${step.offeredPerSecond}/s`);
  }
  if (step.dispatchP99Ms === null) reasons.push('dispatch p99 unknown: requests still undispatched when the wait ended');
  else if (step.dispatchP99Ms > p99BoundMs) reasons.push(`dispatch p99 ${Math.round(step.dispatchP99Ms)} ms > bound ${p99BoundMs} ms`);
  if (step.requests > 0 && step.errors / step.requests > 0.01) reasons.push(`${step.errors} of ${step.requests} requests failed`);
  return { saturated: reasons.length > 0, reasons };
}

/** Histogram over fixed buckets given by their lower bounds, e.g. [1, 2, 5, 20] → 1, 2–4, 5–19, ≥20. */
export function histogram(values: Iterable<number>, lowerBounds: readonly number[]): { bucket: string; count: number }[] {
  const counts = lowerBounds.map(() => 0);
  for (const v of values) {
    for (let i = lowerBounds.length - 1; i >= 0; i--) {
      if (v >= lowerBounds[i]!) {
        counts[i]! += 1;
        break;
      }
    }
  }
  return lowerBounds.map((lo, i) => {
    const next = lowerBounds[i + 1];
    const bucket = next === undefined ? `≥${lo}` : next - 1 === lo ? `${lo}` : `${lo}–${next - 1}`;
    return { bucket, count: counts[i]! };
  });
}

/** 1234.5 → "1.23 s", 12.3 → "12 ms", null → "> wait". */
export function formatMs(value: number | null, whenNull = '> wait'): string {
  if (value === null) return whenNull;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (value >= 10) return `${Math.round(value)} ms`;
  return `${value.toFixed(1)} ms`;
}
