import type { Pool } from '@griddispatch/db';
import type { TimerContext } from '../use-cases/context.ts';

/** What sla-timer's handlers (dispatch-assigned.ts, workorder-updated.ts) are built from. */
export interface ConsumerDeps {
  pool: Pool;
  ctx: TimerContext;
  /** Told the due times of timers once they are committed (the scheduler's in-memory schedule). */
  onScheduled(dues: Date[]): void;
}
