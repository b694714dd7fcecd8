import type { IncomingMessage } from '@griddispatch/bus';
import type { CloudEvent, EventType, EventTypeName, SubscriptionEventName } from '@griddispatch/contracts';
import { inboxConsumer, parseEventOf, type InboxConsumer, type OutboxRecord, type Pool, type PoolClient } from '@griddispatch/db';
import { currentTraceparent, eventLogger, type Logger } from '@griddispatch/observability';
import type { NotificationConfig } from '../config.ts';
import { SCHEMA } from '../schema.ts';
import type { Catalog } from '../templates/index.ts';
import type { ReplyCatalog } from '../templates/replies.ts';
import type { Redactor } from '../channels/personal-data.ts';
import { webhookDrafts } from '../use-cases/draft-deliveries.ts';
import { findWorkOrdersAndSubscribers } from '../use-cases/find-subscribers.ts';
import { BatchNotices } from '../use-cases/incident-notices.ts';
import { externalRecord, publishExternal } from '../use-cases/publish-external.ts';
import { recordDeliveryBatch, type DeliveryBatchItem, type DeliveryDraft } from '../use-cases/record-deliveries.ts';
import type { WorkOrderRecord } from '../use-cases/remember-work-order.ts';

// notification's consumer skeleton (docs/architecture.md#consumer-files): what the handler files,
// each named after its event, share — the batch-first consumer, its planners, the SLA planner.

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

/**
 * A planner that works batch-first: `prepare` reads (or claims) what the batch's new events share
 * in a few statements, before the first is planned; `plan` drafts one event's deliveries from it,
 * deferring its writes into `shared`; `finish` writes them for the whole batch, before the
 * deliveries are stored. Nothing outlives the batch: a failed batch, retried record by record,
 * prepares again for each.
 */
export interface BatchPlanner<T extends EventType, S> {
  prepare(deps: ConsumerDeps, client: PoolClient, events: CloudEvent<T>[]): Promise<S>;
  plan(deps: ConsumerDeps, input: PlanInput<T>, shared: S): Promise<DeliveryDraft[]>;
  finish(deps: ConsumerDeps, client: PoolClient, shared: S): Promise<void>;
}

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
 * the masked copy for the `ext.*` feed (publish-external.ts) — each once for the whole batch, at
 * its end. A redelivered event finds its inbox row and changes nothing; the delivery rows' UNIQUE
 * (event, channel, recipient) holds even without it.
 */
export function notificationConsumer<T extends EventType>(deps: ConsumerDeps, type: T | readonly T[], consumer: string, plan: Planner<T>): InboxConsumer {
  return batchNotificationConsumer(deps, type, consumer, {
    prepare: async () => undefined,
    plan: (d, input) => plan(d, input),
    finish: async () => undefined,
  });
}

/** What one batch collects: the planner's state, each event's drafts and the ext.* copies, all written by `finish`. */
interface Batch<S> {
  shared: S;
  deliveries: DeliveryBatchItem[];
  recorded: Recorded[];
  external: OutboxRecord[];
}

/** How many of an event's deliveries were new; known once the batch's deliveries are stored. */
interface Recorded {
  deliveries: number;
}

/**
 * notificationConsumer with a batch-first planner: its prepare and finish, then the deliveries of
 * all the batch's events in one statement and their ext.* copies in another.
 */
export function batchNotificationConsumer<T extends EventType, S>(
  deps: ConsumerDeps,
  type: T | readonly T[],
  consumer: string,
  planner: BatchPlanner<T, S>,
): InboxConsumer {
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
    prepare: async (client, events): Promise<Batch<S>> => ({ shared: await planner.prepare(deps, client, events), deliveries: [], recorded: [], external: [] }),
    async apply(client, event, message, batch) {
      const log = eventLogger(deps.logger, event);
      const raw = message.value.toString('utf8');
      const drafts = await planner.plan(deps, { client, event, raw, message, log }, batch.shared);
      const copy = deps.externalFeed ? externalRecord(deps.externalFeed, event, raw, message.key) : null;
      if (copy) batch.external.push(copy);
      // The consumer's span of this event: its sends continue the event's trace.
      batch.deliveries.push({ event, drafts, now: deps.now(), traceparent: currentTraceparent() ?? event.traceparent ?? null });
      const recorded: Recorded = { deliveries: 0 };
      batch.recorded.push(recorded);
      return recorded;
    },
    async finish(client, batch) {
      await planner.finish(deps, client, batch.shared);
      const counts = await recordDeliveryBatch(client, batch.deliveries);
      counts.forEach((n, i) => (batch.recorded[i]!.deliveries = n));
      await publishExternal(client, batch.external);
    },
    applied(results) {
      if (results.some(({ result }) => result.deliveries > 0)) deps.wake();
      if (!deps.logger.isLevelEnabled('debug')) return;
      for (const { event, result } of results) eventLogger(deps.logger, event).debug({ deliveries: result.deliveries }, 'deliveries recorded');
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

type SlaEventType = typeof EventTypeName.slaWarning | typeof EventTypeName.slaBreached;

/** What a batch of SLA events shares: each event's stored work order and subscribers, and the incident notices they ask for. */
interface SlaBatch {
  /** By event id. */
  found: Map<string, { workOrder: WorkOrderRecord | null; subscribers: string[] }>;
  notices: BatchNotices;
}

export interface SlaPlannerSpec<T extends SlaEventType> {
  /** Whose subscribers get the event. */
  subscription: SubscriptionEventName;
  /** The incident notice an event asks for: staff hear of each once per incident, not once per caller. */
  noticeOf(event: CloudEvent<T>): string;
  /** The operator desk's deliveries when the work order never came. */
  desk(deps: ConsumerDeps, event: CloudEvent<T>): DeliveryDraft[];
  /** The staff's deliveries, when the event's notice is the incident's first. */
  staff(deps: ConsumerDeps, input: PlanInput<T>, workOrder: WorkOrderRecord): DeliveryDraft[];
}

/**
 * The planner of an SLA event (sla.warning, sla.breached), batch-first: the batch's work orders and
 * subscribers are read in one statement and the incident notices its events ask for claimed in
 * another, before its first event; then each event goes to its staff (once per incident and
 * notice), or to the operator desk when its work order never came, and to its subscribers.
 */
export function slaPlanner<T extends SlaEventType>(spec: SlaPlannerSpec<T>): BatchPlanner<T, SlaBatch> {
  return {
    async prepare(deps, client: PoolClient, events) {
      const results = await findWorkOrdersAndSubscribers(
        client,
        spec.subscription,
        events.map((e) => ({ workOrderId: e.data.workOrderId, gridId: e.data.gridId })),
      );
      const found = new Map(events.map((e, i) => [e.id, results[i] ?? { workOrder: null, subscribers: [] }]));
      const claims = events.flatMap((e) => {
        const incidentId = found.get(e.id)?.workOrder?.incidentId;
        return incidentId ? [{ incidentId, notice: spec.noticeOf(e) }] : [];
      });
      return { found, notices: await BatchNotices.claim(client, claims, deps.now()) };
    },

    async plan(deps, input, shared) {
      const { event, raw } = input;
      const { workOrder, subscribers } = shared.found.get(event.id) ?? { workOrder: null, subscribers: [] };
      const wo = workOrderOrRetry(deps, input, event.data.workOrderId, workOrder);
      let staff: DeliveryDraft[] = [];
      if (!wo) staff = spec.desk(deps, event);
      else if (shared.notices.first(wo.incidentId, spec.noticeOf(event))) staff = spec.staff(deps, input, wo);
      return [...staff, ...webhookDrafts(subscribers, event.id, raw)];
    },

    finish: async () => undefined,
  };
}
