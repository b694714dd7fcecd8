import type { IncomingMessage } from '@griddispatch/bus';
import type { CloudEvent, EventType } from '@griddispatch/contracts';
import { inboxConsumer, parseEventOf, type InboxConsumer, type OutboxRecord, type Pool, type PoolClient } from '@griddispatch/db';
import { eventLogger, type Logger } from '@griddispatch/observability';
import type { NotificationConfig } from '../config.ts';
import { SCHEMA } from '../schema.ts';
import type { Catalog } from '../templates/index.ts';
import type { ReplyCatalog } from '../templates/replies.ts';
import type { Redactor } from '../channels/personal-data.ts';
import { externalRecord, publishExternal } from '../use-cases/publish-external.ts';
import { recordDeliveries, type DeliveryDraft } from '../use-cases/record-deliveries.ts';
import type { WorkOrderRecord } from '../use-cases/remember-work-order.ts';

export interface ConsumerDeps {
  pool: Pool;
  logger: Logger;
  config: NotificationConfig;
  catalog: Catalog;
  /** The replies' messages: the code line of staff SMS, the callback ask, error answers. */
  replies: ReplyCatalog;
  now: () => Date;
  /** Wakes the delivery worker once new deliveries are committed. */
  wake: () => void;
  /** The bus's attempts per record: on the last one, consumers stop waiting for missing context. */
  maxAttempts: number;
  /** Masks events for the `ext.*` feed; null: the feed is off (NOTIFY_EXTERNAL_FEED=0). */
  externalFeed: Redactor | null;
}

export interface PlanInput<T extends EventType> {
  client: PoolClient;
  event: CloudEvent<T>;
  /** The record value as received: the body integrators' webhooks get. */
  raw: string;
  message: IncomingMessage;
  log: Logger;
}

export type Planner<T extends EventType> = (deps: ConsumerDeps, input: PlanInput<T>) => Promise<DeliveryDraft[]>;

/** Thrown while an event's work order is not known yet (its dispatch.assigned is still on its way). */
export class WorkOrderNotKnownYetError extends Error {
  override name = 'WorkOrderNotKnownYetError';
}

/** Thrown while an incident's grid has no people known yet (its primary dispatches are still on their way). */
export class GridNotKnownYetError extends Error {
  override name = 'GridNotKnownYetError';
}

/**
 * Every notification consumer: parse, check the type (one, or the types a topic carries), and in
 * ONE transaction per batch record the events in the inbox, store their pending deliveries and
 * the masked copy for the `ext.*` feed (publish-external.ts). A
 * redelivered event finds its inbox row and changes nothing; the delivery rows' UNIQUE (event,
 * channel, recipient) holds even without it.
 */
export function notificationConsumer<T extends EventType>(deps: ConsumerDeps, type: T | readonly T[], consumer: string, plan: Planner<T>): InboxConsumer {
  const types: readonly T[] = typeof type === 'string' ? [type] : type;
  const parse = parseEventOf(...types);
  return inboxConsumer({
    pool: deps.pool,
    schema: SCHEMA,
    consumer,
    spanName: `notification ${consumer}`,
    parse,
    // Batches lock incident notices and work orders in one order, so they cannot deadlock.
    orderKey: (event) => orderKeyOf(event.data as OrderedData),
    // The batch's ext.* copies, written in one statement by finish().
    prepare: async (): Promise<OutboxRecord[]> => [],
    async apply(client, event, message, external) {
      const log = eventLogger(deps.logger, event);
      const raw = message.value.toString('utf8');
      const drafts = await plan(deps, { client, event, raw, message, log });
      const copy = deps.externalFeed ? externalRecord(deps.externalFeed, event, raw, message.key) : null;
      if (copy) external.push(copy);
      return recordDeliveries(client, event, drafts, deps.now());
    },
    finish: (client, external) => publishExternal(client, external),
    applied(results) {
      if (results.some(({ result }) => result > 0)) deps.wake();
      if (!deps.logger.isLevelEnabled('debug')) return;
      for (const { event, result } of results) eventLogger(deps.logger, event).debug({ deliveries: result }, 'deliveries recorded');
    },
  });
}

/** A work order's event (in its incident, if any), an incident's own event (its `id`), or a request's callback. */
type OrderedData =
  | { workOrderId: string; incidentId?: string | null }
  | { id: string; workOrderId?: undefined }
  | { requestId: string; workOrderId?: undefined };

function orderKeyOf(data: OrderedData): string {
  if ('requestId' in data) return `callback|${data.requestId}`;
  return data.workOrderId === undefined ? `${data.id}|` : `${data.incidentId ?? ''}|${data.workOrderId}`;
}

/**
 * The event's work order as stored from its dispatch. While it is missing the bus retries the
 * record (the work order's dispatch.assigned travels on another topic and may still be on its
 * way); on the last attempt this returns null and the caller falls back to the operator desk, so
 * the message is neither lost nor dead-lettered.
 */
export function workOrderOrRetry<T extends EventType>(
  deps: ConsumerDeps,
  input: PlanInput<T>,
  workOrderId: string,
  found: WorkOrderRecord | null,
): WorkOrderRecord | null {
  if (found) return found;
  if (input.message.attempt < deps.maxAttempts) {
    throw new WorkOrderNotKnownYetError(`work order ${workOrderId} is not known yet (attempt ${input.message.attempt} of ${deps.maxAttempts})`);
  }
  input.log.warn('work order never dispatched here: notifying the operator desk instead of its grid');
  return null;
}
