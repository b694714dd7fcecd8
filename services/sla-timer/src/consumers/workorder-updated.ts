import type { WorkOrderUpdatedV1 } from '@griddispatch/contracts';
import { inboxConsumer, parseEventOf, type InboxConsumer, type PoolClient } from '@griddispatch/db';
import { eventLogger } from '@griddispatch/observability';
import { stagesSatisfiedBy } from '../domain/ladder.ts';
import { SCHEMA } from '../schema.ts';
import { lockWorkOrder } from '../use-cases/lock-work-order.ts';
import { pauseClocks } from '../use-cases/pause-clocks.ts';
import { resumeClocks } from '../use-cases/resume-clocks.ts';
import { satisfyStages } from '../use-cases/satisfy-stages.ts';
import { stopClocks } from '../use-cases/stop-clocks.ts';
import type { ConsumerDeps } from './consume.ts';

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
 * en_route leave the clocks alone; a merged call of an incident has no clocks, and its events change
 * nothing. Applied once per event id, in the transaction of its effect.
 */
export function workOrderUpdatedConsumer(deps: ConsumerDeps): InboxConsumer {
  const parse = parseEventOf('cn.griddispatch.workorder.updated.v1');
  return inboxConsumer({
    pool: deps.pool,
    schema: SCHEMA,
    consumer: CONSUMER,
    spanName: 'sla-timer follow work orders',
    parse,
    // Each event locks its work order's rows: batches lock them in one order and cannot deadlock.
    orderKey: (event) => event.data.workOrderId,
    apply: (client, event) => followWorkOrder(client, deps, event.data),
    applied(results) {
      const dues = results.flatMap(({ result }) => result.dues);
      if (dues.length > 0) deps.onScheduled(dues);
      if (!deps.ctx.logger.isLevelEnabled('debug')) return;
      for (const { event, result } of results) {
        if (result.outcome.effect !== 'none') eventLogger(deps.ctx.logger, event).debug({ type: event.data.type, ...result.outcome }, 'sla clocks updated');
      }
    },
  });
}

async function followWorkOrder(client: PoolClient, deps: ConsumerDeps, data: WorkOrderUpdatedV1): Promise<{ outcome: WorkOrderOutcome; dues: Date[] }> {
  const now = deps.ctx.now();
  const wo = await lockWorkOrder(client, data.workOrderId, now);
  // A merged call follows its incident; its own events move no clock (it has none).
  if (wo.role === 'merged') return { outcome: { effect: 'none' }, dues: [] };
  const at = eventInstant(data, now);
  const stages = stagesSatisfiedBy(data.type);
  if (data.type === 'closed' || data.type === 'cancelled') {
    const cancelled = (await satisfyStages(client, data.workOrderId, stages, now)) + (await stopClocks(client, data.workOrderId, now));
    return { outcome: { effect: 'stopped', cancelled }, dues: [] };
  }
  if (stages.length > 0) return { outcome: { effect: 'satisfied', cancelled: await satisfyStages(client, data.workOrderId, stages, now) }, dues: [] };
  if (data.type === 'suspended') return { outcome: { effect: 'paused', timers: await pauseClocks(client, deps.ctx, wo, at) }, dues: [] };
  if (data.type === 'resumed') {
    const dues = await resumeClocks(client, deps.ctx, wo, at);
    return { outcome: { effect: 'resumed', timers: dues.length }, dues };
  }
  return { outcome: { effect: 'none' }, dues: [] };
}

/** When it happened in the field — but never in the future of our clock. */
function eventInstant(data: WorkOrderUpdatedV1, now: Date): Date {
  const at = new Date(data.at);
  return at < now ? at : now;
}
