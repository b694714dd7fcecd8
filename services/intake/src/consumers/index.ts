import type { IncomingMessage, MessageHandler } from '@griddispatch/bus';
import { EventTypeName, parseEvent, Topics, type CloudEvent, type EventType } from '@griddispatch/contracts';
import { applyOnce, withTransaction } from '@griddispatch/db';
import { eventLogger, withConsumerSpan } from '@griddispatch/observability';
import { READ_MODEL_CONSUMER, SCHEMA, type IntakeContext } from '../context.ts';
import { onDispatchAssigned } from './dispatch-assigned.ts';
import { onDispatchUnroutable } from './dispatch-unroutable.ts';
import { onSlaBreached } from './sla-breached.ts';
import { onSlaWarning } from './sla-warning.ts';
import type { ReadModelHandler } from './types.ts';
import { onWorkorderUpdated } from './workorder-updated.ts';

/** Topics the read model follows. */
export const READ_MODEL_TOPICS = [Topics.dispatchAssigned, Topics.dispatchUnroutable, Topics.workordersEvents, Topics.slaWarnings, Topics.slaBreaches];

const HANDLERS: { [T in EventType]?: ReadModelHandler<T> } = {
  [EventTypeName.dispatchAssigned]: onDispatchAssigned,
  [EventTypeName.dispatchUnroutable]: onDispatchUnroutable,
  [EventTypeName.workorderUpdated]: onWorkorderUpdated,
  [EventTypeName.slaWarning]: onSlaWarning,
  [EventTypeName.slaBreached]: onSlaBreached,
};

/**
 * One subscription for the read model. A record that is not a valid event throws
 * InvalidEventError (→ DLQ at once); a failing effect throws (→ retried, then DLQ). The inbox
 * mark and the effect commit together, so a redelivery changes nothing.
 */
export function readModelHandler(ctx: IntakeContext, consumer = READ_MODEL_CONSUMER): MessageHandler {
  return async (message: IncomingMessage) => {
    const event = parseEvent(message.value);
    const handler = HANDLERS[event.type] as ReadModelHandler<EventType> | undefined;
    const log = eventLogger(ctx.logger, event);
    if (!handler) {
      log.debug({ topic: message.topic }, 'event type not used by the read model');
      return;
    }
    await withConsumerSpan(`intake ${event.type}`, message.headers, () =>
      withTransaction(ctx.pool, async (client) => {
        if (!(await applyOnce(client, SCHEMA, consumer, event.id))) {
          log.debug('already applied');
          return;
        }
        await handler(client, event as CloudEvent<EventType>, log);
      }),
    );
  };
}
