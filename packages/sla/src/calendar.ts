import { dayNumberOfIsoDate, isoWeekday, localDayNumber, zonedInstant } from './zoned.ts';

// Working-time arithmetic: windows that count only the calendar's working hours, skipping
// weekends and holidays, in the policy's time zone. Pure: every instant comes in as an argument.

/** A calendar as written in the policy file (docs/architecture.md#sla-policy). */
export interface WorkingCalendar {
  /** ISO weekdays that are working days: 1 = Monday … 7 = Sunday (0 is read as Sunday too). */
  days: readonly number[];
  /** Working hours of each working day, local time: `"08:30-12:00"`; `24:00` may end a range. */
  hours: readonly string[];
  /** Local dates (`YYYY-MM-DD`) that are not working days. */
  holidays: readonly string[];
  /** Local dates that are working days although their weekday is not (China's 调休 make-up days). */
  workdays?: readonly string[] | undefined;
}

interface CompiledCalendar {
  days: ReadonlySet<number>;
  /** [startMinute, endMinute) of the local day, sorted, non-overlapping. */
  intervals: readonly (readonly [number, number])[];
  holidays: ReadonlySet<number>;
  workdays: ReadonlySet<number>;
  /** Nominal working time of one working day. */
  dayMs: number;
}

const HOURS_RE = /^([01]\d|2[0-3]):([0-5]\d)-(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;
/** A calendar with no working time in this many days is treated as a configuration error. */
const MAX_SCAN_DAYS = 3_660;

export class CalendarError extends Error {
  override name = 'CalendarError';
}

/** Parses `"08:30-12:00"` into minutes of the day, or returns an error message. */
export function parseHoursRange(range: string): readonly [number, number] | string {
  const m = HOURS_RE.exec(range);
  if (!m) return `invalid hours "${range}": use HH:MM-HH:MM in 24-hour time, e.g. 08:30-12:00`;
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = m[5] ? 1440 : Number(m[3]) * 60 + Number(m[4]);
  if (end <= start) return `invalid hours "${range}": the end must be after the start`;
  return [start, end];
}

const compiled = new WeakMap<WorkingCalendar, CompiledCalendar>();

function compile(calendar: WorkingCalendar): CompiledCalendar {
  const cached = compiled.get(calendar);
  if (cached) return cached;
  const intervals: (readonly [number, number])[] = [];
  for (const range of calendar.hours) {
    const r = parseHoursRange(range);
    if (typeof r === 'string') throw new CalendarError(r);
    intervals.push(r);
  }
  intervals.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < intervals.length; i++) {
    if (intervals[i]![0] < intervals[i - 1]![1]) throw new CalendarError(`hours ranges overlap: ${calendar.hours.join(', ')}`);
  }
  const toDays = (dates: readonly string[] | undefined): Set<number> => {
    const out = new Set<number>();
    for (const date of dates ?? []) {
      const n = dayNumberOfIsoDate(date);
      if (Number.isNaN(n)) throw new CalendarError(`invalid date "${date}": use YYYY-MM-DD`);
      out.add(n);
    }
    return out;
  };
  const c: CompiledCalendar = {
    days: new Set(calendar.days.map((d) => (d === 0 ? 7 : d))),
    intervals,
    holidays: toDays(calendar.holidays),
    workdays: toDays(calendar.workdays),
    dayMs: intervals.reduce((sum, [a, b]) => sum + (b - a) * 60_000, 0),
  };
  compiled.set(calendar, c);
  return c;
}

function isWorkingDayNumber(c: CompiledCalendar, day: number): boolean {
  if (c.holidays.has(day)) return false;
  return c.workdays.has(day) || c.days.has(isoWeekday(day));
}

/** Whether the local date (YYYY-MM-DD) is a working day of the calendar. */
export function isWorkingDay(calendar: WorkingCalendar, date: string): boolean {
  const day = dayNumberOfIsoDate(date);
  if (Number.isNaN(day)) throw new CalendarError(`invalid date "${date}": use YYYY-MM-DD`);
  return isWorkingDayNumber(compile(calendar), day);
}

/** Working time in one working day: what a window of `1d` counts under this calendar. */
export function workingDayMs(calendar: WorkingCalendar): number {
  return compile(calendar).dayMs;
}

/** Throws unless the calendar has some working time (checked by the policy parser). */
export function assertCalendarUsable(calendar: WorkingCalendar): void {
  const c = compile(calendar);
  if (c.dayMs === 0) throw new CalendarError('the calendar has no working hours');
  if (c.days.size === 0 && c.workdays.size === 0) throw new CalendarError('the calendar has no working days');
}

function noWorkingTime(): CalendarError {
  return new CalendarError(`the calendar has no working time within ${MAX_SCAN_DAYS} days`);
}

/**
 * The instant `ms` of working time after `start` (before it when `ms` is negative). Without a
 * calendar this is plain clock arithmetic. A window that starts outside working hours starts
 * counting at the next working moment; one that uses up a day's hours exactly ends at the close
 * of that day (17:30), not at the next opening.
 */
export function addWorkingTime(start: Date, ms: number, calendar: WorkingCalendar | null, timeZone: string): Date {
  const t0 = start.getTime();
  if (!calendar || ms === 0) return new Date(t0 + ms);
  const c = compile(calendar);
  let remaining = Math.abs(ms);
  let day = localDayNumber(timeZone, t0);
  if (ms > 0) {
    for (let i = 0; i < MAX_SCAN_DAYS; i++, day++) {
      if (!isWorkingDayNumber(c, day)) continue;
      for (const [a, b] of c.intervals) {
        const end = zonedInstant(timeZone, day, b);
        const from = Math.max(zonedInstant(timeZone, day, a), t0);
        if (from >= end) continue;
        if (remaining <= end - from) return new Date(from + remaining);
        remaining -= end - from;
      }
    }
  } else {
    for (let i = 0; i < MAX_SCAN_DAYS; i++, day--) {
      if (!isWorkingDayNumber(c, day)) continue;
      for (let k = c.intervals.length - 1; k >= 0; k--) {
        const [a, b] = c.intervals[k]!;
        const begin = zonedInstant(timeZone, day, a);
        const to = Math.min(zonedInstant(timeZone, day, b), t0);
        if (to <= begin) continue;
        if (remaining <= to - begin) return new Date(to - remaining);
        remaining -= to - begin;
      }
    }
  }
  throw noWorkingTime();
}

/**
 * Working time from `a` to `b` in milliseconds (negative when `b` is before `a`). Without a
 * calendar this is `b - a`.
 */
export function workingTimeBetween(a: Date, b: Date, calendar: WorkingCalendar | null, timeZone: string): number {
  const ta = a.getTime();
  const tb = b.getTime();
  if (!calendar) return tb - ta;
  if (tb < ta) return -workingTimeBetween(b, a, calendar, timeZone);
  const c = compile(calendar);
  let total = 0;
  const last = localDayNumber(timeZone, tb);
  for (let day = localDayNumber(timeZone, ta); day <= last; day++) {
    if (!isWorkingDayNumber(c, day)) continue;
    for (const [s, e] of c.intervals) {
      const from = Math.max(zonedInstant(timeZone, day, s), ta);
      const to = Math.min(zonedInstant(timeZone, day, e), tb);
      if (to > from) total += to - from;
    }
  }
  return total;
}
