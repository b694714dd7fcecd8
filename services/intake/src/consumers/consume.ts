import type { IncomingMessage } from '@griddispatch/bus';
import { EventTypeName, EventTypes, InvalidEventError, isUuid, parseEvent, Topics, type CloudEvent, type EventType } from '@griddispatch/contracts';
import { inboxConsumer, type InboxConsumer } from '@griddispatch/db';
import { eventLogger } from '@griddispatch/observability';
import { notifyBoard } from '../board/changes.ts';
import { READ_MODEL_CONSUMER, type IntakeContext } from '../context.ts';
import { SCHEMA } from '../schema.ts';
import type { IncidentEvent } from '../use-cases/follow-incident.ts';
import { onDispatchAssigned } from './dispatch-assigned.ts';
import { onDispatchUnroutable } from './dispatch-unroutable.ts';
import { onIncidentEvent } from './incident-event.ts';
import { isReplyEvent, onReplyReceived, type ReplyEvent } from './reply-received.ts';
import { onSlaBreached } from './sla-breached.ts';
import { onSlaWarning } from './sla-warning.ts';
import { prepareReadModel, settle, writeAssignments, writeTimeline, type ReadModelHandler } from '../use-cases/update-read-model.ts';
import { onWorkorderUpdated } from './workorder-updated.ts';

// intake's consumer skeleton (docs/architecture.md#consumer-files): the read model's one subscription,
// which parses, orders and hands each event to the handler file named after it.

/** Topics the read model follows. */
export const READ_MODEL_TOPICS = [
  Topics.dispatchAssigned,
  Topics.dispatchUnroutable,
  Topics.workordersEvents,
  Topics.slaWarnings,
  Topics.slaBreaches,
  Topics.incidentsEvents,
  Topics.repliesReceived,
];

/** The events about one work order (`data.workOrderId`) the read model applies. */
type ReadModelEventType = Extract<EventType, `cn.griddispatch.${'dispatch' | 'workorder' | 'sla'}.${string}`>;

const HANDLERS: { [T in ReadModelEventType]: ReadModelHandler<T> } = {
  [EventTypeName.dispatchAssigned]: onDispatchAssigned,
  [EventTypeName.dispatchUnroutable]: onDispatchUnroutable,
  [EventTypeName.workorderUpdated]: onWorkorderUpdated,
  [EventTypeName.slaWarning]: onSlaWarning,
  [EventTypeName.slaBreached]: onSlaBreached,
};

function isReadModelEvent(event: CloudEvent): event is CloudEvent<ReadModelEventType> {
  return Object.hasOwn(HANDLERS, event.type);
}

/** Events about an incident (`data` is the whole incident), docs/architecture.md#incidents. */
/**
 * In a storm grid-routing publishes an incident's new call count with nearly every call; each event
 * carries the whole incident, so a count followed by a later event of the same incident in the
 * same batch adds nothing and is skipped (its inbox mark still commits). Only pure call-count
 * changes: an opening, a status or a cancelled primary each do something of their own.
 */
function supersededCallCounts(events: CloudEvent[]): Set<string> {
  const later = new Set<string>();
  const superseded = new Set<string>();
  for (const event of [...events].reverse()) {
    if (!isIncidentEvent(event)) continue;
    if (later.has(event.data.id) && event.data.change === 'calls') superseded.add(event.id);
    later.add(event.data.id);
  }
  return superseded;
}

function isIncidentEvent(event: CloudEvent): event is IncidentEvent {
  return EventTypes[event.type].topic === Topics.incidentsEvents;
}

/** The work order (acknowledge) or request (callback) a reply is about. */
function replyTarget(event: ReplyEvent): string {
  return event.data.kind === 'acknowledge' ? event.data.workOrderId : event.data.requestId;
}

/** Incident ids become keys, log fields and board ids: anything past this is not an id. */
const INCIDENT_ID = /^[\p{L}\p{N}][\p{L}\p{N}._:/#-]{0,127}$/u;

function parseReadModelEvent(message: IncomingMessage): CloudEvent {
  const event = parseEvent(message.value);
  // Per-key order holds only on an event's own topic: one published elsewhere is malformed.
  const home = EventTypes[event.type].topic;
  if (home !== message.topic) throw new InvalidEventError(`${event.type} belongs on ${home}, not ${message.topic}`);
  // intake issued every work order id there is, as a UUID: anything else is not an id at all.
  if (isReadModelEvent(event) && !isUuid(event.data.workOrderId)) {
    throw new InvalidEventError(`work order id ${JSON.stringify(event.data.workOrderId.slice(0, 100))} is not a UUID`);
  }
  if (isIncidentEvent(event)) {
    const bad = [event.data.id, event.data.parentId, ...event.data.childIds].find((id) => id !== null && !INCIDENT_ID.test(id));
    if (bad !== undefined) throw new InvalidEventError(`incident id ${JSON.stringify(bad!.slice(0, 100))} is not an identifier`);
    if (event.data.primaryRequestId !== null && !isUuid(event.data.primaryRequestId))
      throw new InvalidEventError('primaryRequestId is not a work order id (UUID)');
  }
  if (isReplyEvent(event) && !isUuid(replyTarget(event))) throw new InvalidEventError('a reply names no work order or request id (UUID)');
  return event;
}

/**
 * One subscription for the read model. A record that is not a valid event throws
 * InvalidEventError (→ DLQ at once); a failing effect throws (→ retried, then DLQ). The inbox
 * marks and the effects of a batch commit together, so a redelivery changes nothing. The boards
 * hear of a change at commit (NOTIFY, see board/changes.ts).
 */
export function readModelConsumer(ctx: IntakeContext, consumer = READ_MODEL_CONSUMER): InboxConsumer {
  return inboxConsumer({
    pool: ctx.pool,
    schema: SCHEMA,
    consumer,
    spanName: 'intake update read model',
    parse: parseReadModelEvent,
    // Each event locks its work order's row: batches lock them in one order and cannot deadlock.
    orderKey: (event) =>
      isReadModelEvent(event) ? event.data.workOrderId : isIncidentEvent(event) ? `incident:${event.data.id}` : isReplyEvent(event) ? replyTarget(event) : '',
    // The batch's work orders are locked in one statement before any event is applied; its
    // assignments, the timeline entries nothing waits for and the boards' notices (delivered at
    // commit) are written in one statement each at its end.
    prepare: async (client, events) => ({ ...(await prepareReadModel(client, events.filter(isReadModelEvent))), superseded: supersededCallCounts(events) }),
    async apply(client, event, _message, batch) {
      const log = eventLogger(ctx.logger, event);
      if (isIncidentEvent(event)) {
        if (batch.superseded.has(event.id)) return;
        await settle(client, batch);
        await onIncidentEvent(ctx, client, event, log.child({ incidentId: event.data.id }), batch);
        return;
      }
      if (isReplyEvent(event)) {
        await settle(client, batch);
        await onReplyReceived(ctx, client, event, log);
        batch.notices.push({ id: replyTarget(event), change: EventTypes[event.type].short });
        return;
      }
      if (!isReadModelEvent(event)) {
        log.debug('event type not used by the read model');
        return;
      }
      const handler = HANDLERS[event.type] as ReadModelHandler<ReadModelEventType>;
      if (await handler(client, event, log, batch)) batch.notices.push({ id: event.data.workOrderId, change: EventTypes[event.type].short });
    },
    async finish(client, batch) {
      await writeAssignments(client, batch);
      await writeTimeline(client, batch.timeline);
      await notifyBoard(client, batch.notices);
    },
  });
}
