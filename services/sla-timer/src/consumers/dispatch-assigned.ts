import type { IncomingMessage } from '@griddispatch/bus';
import { InvalidEventError, isEvent, parseEvent } from '@griddispatch/contracts';
import { applyOnce, withTransaction, type Pool } from '@griddispatch/db';
import { currentTraceparent, eventLogger, withConsumerSpan } from '@griddispatch/observability';
import { SCHEMA, type TimerContext } from '../use-cases/context.ts';
import { schedulePlan, type SchedulePlanOutcome } from '../use-cases/schedule-plan.ts';

export const CONSUMER = 'sla-timer.dispatch-assigned';

export interface ConsumerDeps {
  pool: Pool;
  ctx: TimerContext;
  /** Told the due times of timers once they are committed (the scheduler's in-memory schedule). */
  onScheduled(dues: Date[]): void;
}

/**
 * dispatch.assigned → schedule the plan's warnings and breaches. The inbox row and the timers
 * commit together; a redelivery (same event id) changes nothing, and so does a second dispatch of
 * the same work order (the timers' unique key, the plan kept with the work order).
 */
export async function handleDispatchAssigned(deps: ConsumerDeps, message: IncomingMessage): Promise<SchedulePlanOutcome | 'already_applied'> {
  const event = parseEvent(message.value);
  if (!isEvent(event, 'cn.griddispatch.dispatch.assigned.v1')) {
    throw new InvalidEventError(`unexpected event type ${event.type} on ${message.topic}`);
  }
  const log = eventLogger(deps.ctx.logger, event);
  return withConsumerSpan('sla-timer schedule plan', message.headers, async () => {
    const data = event.data;
    const outcome = await withTransaction(deps.pool, async (client) => {
      if (!(await applyOnce(client, SCHEMA, CONSUMER, event.id))) return 'already_applied' as const;
      return schedulePlan(client, deps.ctx, {
        workOrderId: data.workOrderId,
        gridId: data.grid.id,
        plan: data.sla,
        openedAt: new Date(data.request.receivedAt),
        traceparent: currentTraceparent() ?? event.traceparent ?? message.headers.traceparent,
      });
    });
    if (outcome === 'already_applied') log.debug('event already applied');
    else if (outcome.status === 'scheduled') {
      deps.onScheduled(outcome.dues);
      log.info({ policy: data.sla.policy, timers: outcome.timers, paused: outcome.paused }, 'sla timers scheduled');
    } else log.info({ outcome: outcome.status }, 'sla plan not scheduled');
    return outcome;
  });
}
