// Durations in policy files: one or more `<integer><unit>` parts, units s, m, h, d — `90s`, `5m`,
// `2h`, `1d`, `3h45m`. Days are kept apart from the rest because under a working-hours calendar a
// day means one working day (the calendar's daily hours), not 24 hours.

const PART = /(\d+)(d|h|m|s)/gy;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export const DURATION_HINT = 'use an integer and a unit s, m, h or d, e.g. 90s, 5m, 2h, 1d, 3h45m';

export class DurationError extends Error {
  override name = 'DurationError';
}

export interface DurationParts {
  days: number;
  /** The hours, minutes and seconds, in milliseconds. */
  ms: number;
}

export function parseDurationParts(text: string): DurationParts {
  const s = text.trim();
  if (s === '') throw new DurationError(`invalid duration "${text}": ${DURATION_HINT}`);
  let days = 0;
  let ms = 0;
  const seen = new Set<string>();
  PART.lastIndex = 0;
  let at = 0;
  while (at < s.length) {
    PART.lastIndex = at;
    const m = PART.exec(s);
    if (!m) throw new DurationError(`invalid duration "${text}": ${DURATION_HINT}`);
    const unit = m[2] as keyof typeof UNIT_MS;
    if (seen.has(unit)) throw new DurationError(`invalid duration "${text}": unit "${unit}" given twice`);
    seen.add(unit);
    const n = Number(m[1]);
    if (unit === 'd') days += n;
    else ms += n * UNIT_MS[unit];
    at = PART.lastIndex;
  }
  if (!Number.isSafeInteger(days * UNIT_MS.d + ms)) throw new DurationError(`invalid duration "${text}": too long`);
  return { days, ms };
}

/** Milliseconds of a duration counted on the clock (a day is 24 h). */
export function parseDuration(text: string): number {
  const { days, ms } = parseDurationParts(text);
  return days * UNIT_MS.d + ms;
}

/** Compact human form, the inverse of parseDuration for whole seconds: 5400000 → "1h30m". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const sign = ms < 0 ? '-' : '';
  let rest = Math.round(Math.abs(ms) / 1000);
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return sign + out;
}
