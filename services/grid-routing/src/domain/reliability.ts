// IEEE 1366 arithmetic, pure: the indices of a group from its sums, and the major event day
// threshold by the 2.5β method. The database gathers the sums (use-cases/report-reliability.ts).

/** An interruption shorter than this (or as long) is momentary: not counted (IEEE 1366 sustained: > 5 min). */
export const SUSTAINED_MS = 5 * 60_000;

/** The standard's history for the major-event threshold. */
export const MED_STANDARD_YEARS = 5;

export interface ReliabilityIndices {
  /** Σ customers interrupted / customers served. */
  saifi: number;
  /** Σ customer-minutes / customers served (minutes). */
  saidi: number;
  /** SAIDI / SAIFI (minutes per interruption); null when nobody was interrupted. */
  caidi: number | null;
  /** 1 − SAIDI / minutes in the period. */
  asai: number;
}

export function indices(customersServed: number, customerInterruptions: number, customerMinutes: number, periodMinutes: number): ReliabilityIndices {
  const saifi = customersServed > 0 ? customerInterruptions / customersServed : 0;
  const saidi = customersServed > 0 ? customerMinutes / customersServed : 0;
  return { saifi, saidi, caidi: saifi > 0 ? saidi / saifi : null, asai: periodMinutes > 0 ? 1 - saidi / periodMinutes : 1 };
}

export interface MedThreshold {
  /** exp(α + 2.5 β) in SAIDI minutes; null when fewer than two days with interruptions to fit. */
  tMed: number | null;
  /** Mean and (sample) standard deviation of ln(daily SAIDI). */
  alpha: number | null;
  beta: number | null;
  /** Days with a non-zero SAIDI the threshold was fitted on (a day with none has no logarithm: IEEE 1366 leaves it out). */
  days: number;
}

/**
 * The 2.5β method: α and β are the mean and standard deviation of the natural logarithms of the
 * daily SAIDI values of the history; a day whose SAIDI exceeds T_MED = e^(α + 2.5β) is a major
 * event day. β is the sample standard deviation (n − 1), as in the standard's worked example.
 */
export function medThreshold(dailySaidi: readonly number[]): MedThreshold {
  const logs = dailySaidi.filter((v) => v > 0).map(Math.log);
  if (logs.length < 2) return { tMed: null, alpha: null, beta: null, days: logs.length };
  const alpha = logs.reduce((a, b) => a + b, 0) / logs.length;
  const beta = Math.sqrt(logs.reduce((a, b) => a + (b - alpha) ** 2, 0) / (logs.length - 1));
  return { tMed: Math.exp(alpha + 2.5 * beta), alpha, beta, days: logs.length };
}

/** Rounded for the response: indices to 6 decimals (ASAI needs them), minutes and counts to 4. */
export const round = (v: number, places: number) => Math.round(v * 10 ** places) / 10 ** places;
