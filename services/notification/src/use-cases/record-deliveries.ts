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

/**
 * Stores `drafts` as pending deliveries of `event`, due now, on the consumer's transaction. A
 * draft whose (event, channel, recipient) is already stored is skipped — nobody gets a second
 * message for one event, however often the event arrives. Wakes the delivery workers (NOTIFY,
 * sent only if the transaction commits). Each row keeps the trace it continues. Returns how many rows were new.
 */
export async function recordDeliveries(client: PoolClient, event: CloudEvent, drafts: DeliveryDraft[], now: Date): Promise<number> {
  const unique = new Map<string, DeliveryDraft>();
  for (const d of drafts) unique.set(`${d.channel}\u0000${d.recipient}`, d);
  const rows = [...unique.values()];
  if (rows.length === 0) return 0;
  // Insert and wake in one statement; the NOTIFY is delivered only if the transaction commits.
  const result = await client.query<{ inserted: number }>(
    `WITH inserted AS (
       INSERT INTO ${SCHEMA}.deliveries
         (id, event_id, event_type, work_order_id, channel, recipient, subscription_id, payload, status, attempts, next_attempt_at, created_at, updated_at,
          traceparent)
       SELECT id, $1, $2, $3, channel, recipient, subscription_id, payload, 'pending', 0, $4, $4, $4, $11
         FROM unnest($5::uuid[], $6::text[], $7::text[], $8::uuid[], $9::jsonb[]) AS d(id, channel, recipient, subscription_id, payload)
       ON CONFLICT ON CONSTRAINT deliveries_once DO NOTHING
       RETURNING 1)
     SELECT count(*)::int AS inserted, CASE WHEN count(*) > 0 THEN pg_notify($10, '') END AS woke FROM inserted`,
    [
      event.id,
      event.type,
      event.subject,
      now,
      rows.map(() => randomUUID()),
      rows.map((r) => r.channel),
      rows.map((r) => r.recipient),
      rows.map((r) => r.subscriptionId),
      rows.map((r) => JSON.stringify(r.payload)),
      WAKE_CHANNEL,
      // The consumer's span of this event (its send continues the event's trace).
      currentTraceparent() ?? event.traceparent ?? null,
    ],
  );
  const inserted = result.rows[0]?.inserted ?? 0;
  return inserted;
}
