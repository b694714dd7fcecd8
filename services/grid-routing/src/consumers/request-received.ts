import type { Pool } from 'pg';
import type { IncomingMessage, MessageHandler } from '@griddispatch/bus';
import { InvalidEventError, isEvent, parseEvent } from '@griddispatch/contracts';
import { applyOnce, withTransaction } from '@griddispatch/db';
import { currentTraceparent, eventLogger, withConsumerSpan, type Logger } from '@griddispatch/observability';
import { SCHEMA } from '../schema-migrations.ts';
import { routeRequest, type RouteOutcome, type RoutingContext } from '../use-cases/route-request.ts';

export const CONSUMER = 'grid-routing.request-received';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RequestReceivedDeps {
  pool: Pool;
  logger: Logger;
  ctx: RoutingContext;
  /** Told each record's outcome once it committed (metrics). */
  onOutcome?: (outcome: RouteOutcome | 'already_applied') => void;
}

/**
 * requests.received → route the request. The inbox row, the routing decision and the outbox row
 * commit together; a redelivered event (same id) finds its inbox row and changes nothing. A
 * record that is not a request.received event throws InvalidEventError (→ DLQ at once).
 */
export async function handleRequestReceived(deps: RequestReceivedDeps, message: IncomingMessage): Promise<RouteOutcome | 'already_applied'> {
  const event = parseEvent(message.value);
  if (!isEvent(event, 'cn.griddispatch.request.received.v1')) {
    throw new InvalidEventError(`unexpected event type ${event.type} on ${message.topic}`);
  }
  // The request id becomes the work order id every service keys on; intake issues UUIDs only.
  if (!UUID.test(event.data.id)) throw new InvalidEventError(`request id ${JSON.stringify(event.data.id.slice(0, 100))} is not a UUID`);
  const log = eventLogger(deps.logger, event);
  return withConsumerSpan('grid-routing route request', message.headers, async () => {
    const outcome = await withTransaction(deps.pool, async (client) => {
      if (!(await applyOnce(client, SCHEMA, CONSUMER, event.id))) return 'already_applied' as const;
      return routeRequest(deps.ctx, client, event.data, { eventId: event.id, traceparent: currentTraceparent() ?? event.traceparent ?? message.headers.traceparent });
    });
    if (outcome === 'already_applied') log.debug('event already applied');
    else if (outcome.status === 'duplicate') log.info('request already routed; nothing emitted');
    else if (outcome.status === 'assigned') log.info({ gridId: outcome.gridId, incidentId: outcome.incidentId, resolvedBy: outcome.event.data.resolvedBy }, 'request assigned');
    else log.warn({ reason: outcome.reason }, 'request unroutable; sent to the fallback desk');
    return outcome;
  });
}

export function requestReceivedHandler(deps: RequestReceivedDeps): MessageHandler {
  return async (message) => {
    const outcome = await handleRequestReceived(deps, message);
    deps.onOutcome?.(outcome);
  };
}
