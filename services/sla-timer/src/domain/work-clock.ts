import { addWorkingTime, workingTimeBetween, type WorkingCalendar } from '@griddispatch/sla';

/** How a plan's clocks count: on the wall clock, or working time under a policy calendar. */
export interface WorkClock {
  /** The instant `ms` of counted time after `start` (before it when negative). */
  add(start: Date, ms: number): Date;
  /** Counted time from `a` to `b` (negative when `b` is earlier). */
  between(a: Date, b: Date): number;
}

export function workClock(calendar: WorkingCalendar | null, timeZone: string): WorkClock {
  return {
    add: (start, ms) => addWorkingTime(start, ms, calendar, timeZone),
    between: (a, b) => workingTimeBetween(a, b, calendar, timeZone),
  };
}

export const WALL_CLOCK: WorkClock = workClock(null, 'UTC');
