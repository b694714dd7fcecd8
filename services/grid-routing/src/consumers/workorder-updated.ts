import { inboxConsumer, parseEventOf, type InboxConsumer, type Pool } from '@griddispatch/db';
import { eventLogger, type Logger } from '@griddispatch/observability';
import { SCHEMA } from '../schema.ts';
import { finishWorkOrders, followWorkOrder, prepareWorkOrders } from '../use-cases/follow-work-order.ts';
import { noMetersOff, type MetersStillOff } from '../use-cases/incidents.ts';
import type { RoutingContext } from '../use-cases/routing-context.ts';

export const CONSUMER = 'grid-routing.workorder-updated';

export interface WorkOrderUpdatedDeps {
  pool: Pool;
  logger: Logger;
  ctx: RoutingContext;
  /** Whether an incident's meters still report off when its crew resolves it. Default: never. */
  metersStillOff?: MetersStillOff;
}

const parseWorkOrderUpdated = parseEventOf('cn.griddispatch.workorder.updated.v1');

/**
 * workorders.events → the incident of a primary work order follows it (docs/architecture.md#incidents, rule 3).
 * The batch's incidents are locked per feeder in one order in `prepare`; inbox rows, incident
 * rows and incidents.events commit together; a redelivered event changes nothing.
 */
export function workOrderUpdatedConsumer(deps: WorkOrderUpdatedDeps): InboxConsumer {
  return inboxConsumer({
    pool: deps.pool,
    schema: SCHEMA,
    consumer: CONSUMER,
    spanName: 'grid-routing follow incidents',
    parse: parseWorkOrderUpdated,
    prepare: (client, events) =>
      prepareWorkOrders(
        deps.ctx,
        client,
        events.map((e) => e.data),
        deps.metersStillOff ?? noMetersOff,
      ),
    apply: (client, event, _message, batch) => followWorkOrder(client, batch, event.data),
    finish: finishWorkOrders,
    applied(results) {
      if (!deps.logger.isLevelEnabled('debug')) return;
      for (const { event, result } of results) {
        if (result.effect !== 'none')
          eventLogger(deps.logger, event).debug({ incidentId: result.incidentId, status: result.status }, 'incident follows its work order');
      }
    },
  });
}
