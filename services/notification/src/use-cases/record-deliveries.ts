import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { CloudEvent } from '@griddispatch/contracts';
import { currentTraceparent } from '@griddispatch/observability';
import type { ChannelName, DeliveryPayload } from '../channels/types.ts';
import { WAKE_CHANNEL } from '../delivery/wakeup.ts';
import { SCHEMA } from '../schema.ts';

/** One message to one recipient through one channel, before it is stored. */
export interface DeliveryDraft {
  channel: ChannelName;
  /** Phone (+86…), robot URL, subscription id or log desk: with the event and channel, the dedupe key. */
  recipient: string;
  subscriptionId: string | null;
  payload: DeliveryPayload;
}

/** What the deliveries answer: a consumed event, or an inbound SMS (`inbound:<id>`, type `reply.error`). */
export type DeliveryCause = Pick<CloudEvent, 'id' | 'traceparent'> & { type: string; subject: string | null };

/** One event's drafts, as a batch stores them at its end. */
export interface DeliveryBatchItem {
  event: DeliveryCause;
  drafts: DeliveryDraft[];
  now: Date;
  /** The trace the rows continue: the consumer's span of this event, else the event's own. */
  traceparent: string | null;
}

/**
 * Stores `drafts` as pending deliveries of `event`, due now, on the consumer's transaction. A
 * draft whose (event, channel, recipient) is already stored is skipped — nobody gets a second
 * message for one event, however often the event arrives. Wakes the delivery workers (NOTIFY,
 * sent only if the transaction commits). Each row keeps the trace it continues. Returns how many rows were new.
 */
export async function recordDeliveries(client: PoolClient, event: DeliveryCause, drafts: DeliveryDraft[], now: Date): Promise<number> {
  const [inserted] = await recordDeliveryBatch(client, [{ event, drafts, now, traceparent: currentTraceparent() ?? event.traceparent ?? null }]);
  return inserted ?? 0;
}

/**
 * `recordDeliveries` for several events in ONE statement (a consumer's batch, at its end): how
 * many rows were new, per item. Items must be of distinct events (the inbox sees to that).
 */
export async function recordDeliveryBatch(client: PoolClient, items: readonly DeliveryBatchItem[]): Promise<number[]> {
  const rows: { item: number; draft: DeliveryDraft }[] = [];
  items.forEach((item, i) => {
    // Within one event, a (channel, recipient) is one row; the last draft of it wins.
    const unique = new Map<string, DeliveryDraft>();
    for (const d of item.drafts) unique.set(`${d.channel}\u0000${d.recipient}`, d);
    for (const draft of unique.values()) rows.push({ item: i, draft });
  });
  const counts = items.map(() => 0);
  if (rows.length === 0) return counts;
  const of = (r: { item: number }): DeliveryBatchItem => items[r.item]!;
  // Insert and wake in one statement; the NOTIFY is delivered only if the transaction commits.
  const result = await client.query<{ event_id: string; inserted: number }>(
    `WITH inserted AS (
       INSERT INTO ${SCHEMA}.deliveries
         (id, event_id, event_type, work_order_id, channel, recipient, subscription_id, payload, status, attempts, next_attempt_at, created_at, updated_at,
          traceparent)
       SELECT id, event_id, event_type, work_order_id, channel, recipient, subscription_id, payload, 'pending', 0, now, now, now, traceparent
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::uuid[], $8::jsonb[], $9::timestamptz[], $10::text[])
           AS d(id, event_id, event_type, work_order_id, channel, recipient, subscription_id, payload, now, traceparent)
       ON CONFLICT ON CONSTRAINT deliveries_once DO NOTHING
       RETURNING event_id, CASE WHEN channel = 'webhook' THEN 'webhook' ELSE 'staff' END AS lane)
     -- The notification names the worker's lanes that got rows (wakeup.ts; the CASE is laneOf of
     -- claim.ts for rows without a priority); PostgreSQL folds the repeats of a transaction, so it
     -- sends at most one per set of lanes however many events.
     SELECT event_id, count(*)::int AS inserted, pg_notify($11, string_agg(DISTINCT lane, ',')) AS woke FROM inserted GROUP BY event_id`,
    [
      rows.map(() => randomUUID()),
      rows.map((r) => of(r).event.id),
      rows.map((r) => of(r).event.type),
      rows.map((r) => of(r).event.subject),
      rows.map((r) => r.draft.channel),
      rows.map((r) => r.draft.recipient),
      rows.map((r) => r.draft.subscriptionId),
      rows.map((r) => JSON.stringify(r.draft.payload)),
      rows.map((r) => of(r).now),
      rows.map((r) => of(r).traceparent),
      WAKE_CHANNEL,
    ],
  );
  const index = new Map(items.map((item, i) => [item.event.id, i]));
  for (const { event_id, inserted } of result.rows) {
    const i = index.get(event_id);
    if (i !== undefined) counts[i] = inserted;
  }
  return counts;
}
