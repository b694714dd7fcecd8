import type { Logger } from '@griddispatch/observability';
import type { WorkClock } from '../domain/work-clock.ts';

/** What the use cases need besides a database client. */
export interface TimerContext {
  now: () => Date;
  /** The clock of a plan's calendar: working time for a known calendar, else the wall clock. */
  clockFor(calendar: string | null): WorkClock;
  /** A timer fired more than this after it was due is marked `late`. */
  lateAfterMs: number;
  logger: Logger;
}
