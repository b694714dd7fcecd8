import type { Logger } from '@griddispatch/observability';
import { addWorkingTime, workingTimeBetween, type Policy, type WorkingCalendar } from '@griddispatch/sla';

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

/**
 * The clock of each calendar a plan names, built once per calendar from the policy. A name the
 * policy lacks (the plan came from another policy) counts clock time, said once in the log.
 */
export function policyClocks(policy: Policy, logger: Logger): (calendar: string | null) => WorkClock {
  const clocks = new Map<string, WorkClock>();
  return (name) => {
    if (name === null) return WALL_CLOCK;
    let clock = clocks.get(name);
    if (!clock) {
      const calendar = policy.calendars[name];
      if (!calendar) logger.warn({ calendar: name }, 'plan names a calendar this policy does not have; counting clock time');
      clock = calendar ? workClock(calendar, policy.timeZone) : WALL_CLOCK;
      clocks.set(name, clock);
    }
    return clock;
  };
}
