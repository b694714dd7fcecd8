import type { IncomingMessage } from '@griddispatch/bus';
import { InvalidEventError, isEvent, parseEvent, type WorkOrderUpdatedV1 } from '@griddispatch/contracts';
import { applyOnce, withTransaction } from '@griddispatch/db';
import { eventLogger, withConsumerSpan } from '@griddispatch/observability';
import { stagesSatisfiedBy } from '../domain/ladder.ts';
import { SCHEMA } from '../use-cases/context.ts';
import { lockWorkOrder } from '../use-cases/lock-work-order.ts';
import { pauseClocks } from '../use-cases/pause-clocks.ts';
import { resumeClocks } from '../use-cases/resume-clocks.ts';
import { satisfyStages } from '../use-cases/satisfy-stages.ts';
import { stopClocks } from '../use-cases/stop-clocks.ts';
import type { ConsumerDeps } from './dispatch-assigned.ts';

export const CONSUMER = 'sla-timer.workorder-updated';

export type WorkOrderOutcome =
  | { effect: 'satisfied'; cancelled: number }
  | { effect: 'stopped'; cancelled: number }
  | { effect: 'paused'; timers: number }
  | { effect: 'resumed'; timers: number }
  | { effect: 'none' };

/**
 * workorders.events → the clocks follow the work order: acknowledged / arrived / resolved / closed
 * satisfy their stage (and the ones before it); suspended pauses every running clock and resumed
 * restarts it with the time that was left; cancelled and closed stop everything; reassigned and
 * en_route leave the clocks alone. Applied once per event id, in the transaction of its effect.
 */
export async function handleWorkOrderUpdated(deps: ConsumerDeps, message: IncomingMessage): Promise<WorkOrderOutcome | 'already_applied'> {
  const event = parseEvent(message.value);
  if (!isEvent(event, 'cn.griddispatch.workorder.updated.v1')) {
    throw new InvalidEventError(`unexpected event type ${event.type} on ${message.topic}`);
  }
  const log = eventLogger(deps.ctx.logger, event);
  return withConsumerSpan('sla-timer follow work order', message.headers, async () => {
    const data = event.data;
    let dues: Date[] = [];
    const outcome = await withTransaction(deps.pool, async (client): Promise<WorkOrderOutcome | 'already_applied'> => {
      if (!(await applyOnce(client, SCHEMA, CONSUMER, event.id))) return 'already_applied';
      const now = deps.ctx.now();
      const wo = await lockWorkOrder(client, data.workOrderId, now);
      const at = eventInstant(data, now);
      const stages = stagesSatisfiedBy(data.type);
      if (data.type === 'closed' || data.type === 'cancelled') {
        const cancelled = (await satisfyStages(client, data.workOrderId, stages, now)) + (await stopClocks(client, data.workOrderId, now));
        return { effect: 'stopped', cancelled };
      }
      if (stages.length > 0) return { effect: 'satisfied', cancelled: await satisfyStages(client, data.workOrderId, stages, now) };
      if (data.type === 'suspended') return { effect: 'paused', timers: await pauseClocks(client, deps.ctx, wo, at) };
      if (data.type === 'resumed') {
        dues = await resumeClocks(client, deps.ctx, wo, at);
        return { effect: 'resumed', timers: dues.length };
      }
      return { effect: 'none' };
    });
    if (outcome === 'already_applied') {
      log.debug('event already applied');
      return outcome;
    }
    deps.onScheduled(dues);
    if (outcome.effect !== 'none') log.info({ type: data.type, ...outcome }, 'sla clocks updated');
    return outcome;
  });
}

/** When it happened in the field — but never in the future of our clock. */
function eventInstant(data: WorkOrderUpdatedV1, now: Date): Date {
  const at = new Date(data.at);
  return at < now ? at : now;
}
