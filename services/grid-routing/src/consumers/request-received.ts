import type { IncomingMessage } from '@griddispatch/bus';
import { InvalidEventError, isUuid, type CloudEvent } from '@griddispatch/contracts';
import { inboxConsumer, parseEventOf, type InboxConsumer, type Pool } from '@griddispatch/db';
import { currentTraceparent, eventLogger, type Logger } from '@griddispatch/observability';
import { SCHEMA } from '../schema.ts';
import { finishBatch, prepareBatch, routeRequest, type RouteOutcome, type RoutingContext } from '../use-cases/route-request.ts';

export const CONSUMER = 'grid-routing.request-received';

export interface RequestReceivedDeps {
  pool: Pool;
  logger: Logger;
  ctx: RoutingContext;
  /** Told each applied record's outcome once it committed (metrics). */
  onOutcome?: (outcome: RouteOutcome) => void;
}

const parseRequest = parseEventOf('cn.griddispatch.request.received.v1');

function parseRequestReceived(message: IncomingMessage): CloudEvent<'cn.griddispatch.request.received.v1'> {
  const event = parseRequest(message);
  // The request id becomes the work order id every service keys on; intake issues UUIDs only.
  if (!isUuid(event.data.id)) throw new InvalidEventError(`request id ${JSON.stringify(event.data.id.slice(0, 100))} is not a UUID`);
  return event;
}

/**
 * requests.received → route each request. The inbox rows, the routing decisions and the outbox
 * rows of a batch commit together; a redelivered event (same id) changes nothing. A record that
 * is not a request.received event throws InvalidEventError (→ DLQ at once).
 */
export function requestReceivedConsumer(deps: RequestReceivedDeps): InboxConsumer {
  return inboxConsumer({
    pool: deps.pool,
    schema: SCHEMA,
    consumer: CONSUMER,
    spanName: 'grid-routing route requests',
    parse: parseRequestReceived,
    prepare: (client, events) =>
      prepareBatch(
        deps.ctx,
        client,
        events.map((e) => e.data),
      ),
    apply: (client, event, message, batch) =>
      routeRequest(
        deps.ctx,
        client,
        event.data,
        { eventId: event.id, traceparent: currentTraceparent() ?? event.traceparent ?? message.headers.traceparent },
        batch,
      ),
    finish: finishBatch,
    applied(results) {
      for (const { event, result } of results) {
        deps.onOutcome?.(result);
        if (!deps.logger.isLevelEnabled('debug')) continue;
        const log = eventLogger(deps.logger, event);
        if (result.status === 'duplicate') log.debug('request already routed; nothing emitted');
        else if (result.status === 'assigned')
          log.debug({ gridId: result.gridId, incidentId: result.incidentId, resolvedBy: result.event.data.resolvedBy }, 'request assigned');
        else log.debug({ reason: result.reason }, 'request unroutable; sent to the fallback desk');
      }
    },
  });
}
