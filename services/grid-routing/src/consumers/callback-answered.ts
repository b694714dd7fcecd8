import { EventTypeName, InvalidEventError, isEvent, parseEvent, type CloudEvent } from '@griddispatch/contracts';
import { inboxConsumer, type InboxConsumer, type Pool } from '@griddispatch/db';
import { eventLogger, type Logger } from '@griddispatch/observability';
import { SCHEMA } from '../schema.ts';
import { reopenIncident, type ReopenResult } from '../use-cases/reopen-incident.ts';
import type { RoutingContext } from '../use-cases/routing-context.ts';

export const CONSUMER = 'grid-routing.callbacks';

type CallbackEvent = CloudEvent<typeof EventTypeName.callbackRequested | typeof EventTypeName.callbackAnswered>;

/**
 * callbacks.events → a caller's `still_out` opens a follow-up incident on the 台区
 * (use-cases/reopen-incident.ts); the asks and other answers change nothing here. The inbox
 * and the incident commit together: a redelivered answer changes nothing.
 */
export function callbackAnsweredConsumer(deps: { pool: Pool; logger: Logger; ctx: RoutingContext }): InboxConsumer {
  return inboxConsumer<CallbackEvent, ReopenResult | null>({
    pool: deps.pool,
    schema: SCHEMA,
    consumer: CONSUMER,
    spanName: 'grid-routing callback answered',
    parse(message) {
      const event = parseEvent(message.value);
      if (!isEvent(event, EventTypeName.callbackAnswered) && !isEvent(event, EventTypeName.callbackRequested)) {
        throw new InvalidEventError(`unexpected event type ${event.type} on ${message.topic}`);
      }
      return event;
    },
    async apply(client, event) {
      if (!isEvent(event, EventTypeName.callbackAnswered) || event.data.reply !== 'still_out') return null;
      return reopenIncident(deps.ctx, client, { incidentId: event.data.incidentId, requestId: event.data.requestId });
    },
    applied(results) {
      for (const { event, result } of results) {
        if (result)
          eventLogger(deps.logger, event).info(
            { ...result },
            result.status === 'opened' ? 'still out after restoration: follow-up incident opened' : 'still out: nothing to open',
          );
      }
    },
  });
}
