import { inboxConsumer, parseEventOf, type InboxConsumer } from '@griddispatch/db';
import { currentTraceparent, eventLogger } from '@griddispatch/observability';
import { SCHEMA } from '../schema.ts';
import { finishPlans, preparePlans, schedulePlan } from '../use-cases/schedule-plan.ts';
import type { ConsumerDeps } from './consume.ts';

export const CONSUMER = 'sla-timer.dispatch-assigned';

/**
 * dispatch.assigned → schedule the plan's warnings and breaches. A merged call of an incident
 * (`role: 'merged'`) gets no plan and no timers — the incident's primary carries its clocks — and
 * is recorded as applied, stopped. A batch locks its work orders in
 * one statement and writes their plans and timers in one each; the inbox rows and the timers
 * commit together; a redelivery (same event id) changes nothing, and so does a second
 * dispatch of the same work order (the timers' unique key, the plan kept with the work order).
 */
export function dispatchAssignedConsumer(deps: ConsumerDeps): InboxConsumer {
  const parse = parseEventOf('cn.griddispatch.dispatch.assigned.v1');
  return inboxConsumer({
    pool: deps.pool,
    schema: SCHEMA,
    consumer: CONSUMER,
    spanName: 'sla-timer schedule plans',
    parse,
    // Each event locks its work order's rows: batches lock them in one order and cannot deadlock.
    orderKey: (event) => event.data.workOrderId,
    prepare: (client, events) =>
      preparePlans(
        client,
        deps.ctx,
        events.map((e) => e.data.workOrderId),
      ),
    apply: (client, { data, traceparent }, message, batch) =>
      schedulePlan(
        client,
        deps.ctx,
        {
          workOrderId: data.workOrderId,
          gridId: data.grid.id,
          plan: data.sla,
          openedAt: new Date(data.request.receivedAt),
          traceparent: currentTraceparent() ?? traceparent ?? message.headers.traceparent,
          role: data.role,
        },
        batch,
      ),
    finish: finishPlans,
    applied(results) {
      const dues = results.flatMap(({ result }) => (result.status === 'scheduled' ? result.dues : []));
      if (dues.length > 0) deps.onScheduled(dues);
      if (!deps.ctx.logger.isLevelEnabled('debug')) return;
      for (const { event, result } of results) {
        const log = eventLogger(deps.ctx.logger, event);
        if (result.status === 'scheduled') log.debug({ policy: event.data.sla.policy, timers: result.timers, paused: result.paused }, 'sla timers scheduled');
        else log.debug({ outcome: result.status }, 'sla plan not scheduled');
      }
    },
  });
}
