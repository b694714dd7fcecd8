import { CLOUDEVENTS_CONTENT_TYPE, serializeEvent, type CloudEvent } from '@griddispatch/contracts';
import { outboxChannel, schemaIdent } from './identifiers.ts';
import type { OutboxRecord, PoolClient } from './types.ts';

/**
 * Appends records to `<schema>.outbox` on the caller's transaction and notifies the schema's relay;
 * PostgreSQL delivers the NOTIFY only when (and if) that transaction commits.
 *
 * Write the state first and the outbox rows after it: the row lock on the aggregate then orders
 * concurrent writers of one aggregate, so their outbox ids (the relay's publish order) follow
 * their commit order.
 */
export async function enqueueOutbox(client: PoolClient, schema: string, records: OutboxRecord[]): Promise<void> {
  if (records.length === 0) return;
  const table = `${schemaIdent(schema)}.outbox`;
  // One statement (one round trip) whatever the batch size: four array parameters, unnested in
  // order, and the NOTIFY in the same statement (a one-row subquery, evaluated once).
  await client.query(
    `INSERT INTO ${table} (topic, key, value, headers)
     SELECT r.topic, r.key, r.value, r.headers
     FROM (SELECT pg_notify($5, '')) AS wake, unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) AS r (topic, key, value, headers)`,
    [...outboxColumns(records), outboxChannel(schema)],
  );
}

/**
 * Outbox rows as the four array parameters (topic, key, value, headers as jsonb text) that
 * `unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])` reads: for a statement that writes its
 * outbox rows together with its own (intake's request insert).
 */
export function outboxColumns(records: readonly OutboxRecord[]): [string[], string[], string[], string[]] {
  return [records.map((r) => r.topic), records.map((r) => r.key), records.map((r) => r.value), records.map((r) => JSON.stringify(r.headers ?? {}))];
}

/**
 * The Kafka headers of an event's record: the CloudEvents content type and, when the event carries
 * one, its `traceparent`, so the consumer continues the trace from the record alone.
 */
export function eventHeaders(event: CloudEvent): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': CLOUDEVENTS_CONTENT_TYPE };
  if (event.traceparent) headers.traceparent = event.traceparent;
  return headers;
}

/** An event as the outbox row that publishes it on `topic`, keyed by `key`. */
export function eventRecord(topic: string, key: string, event: CloudEvent): OutboxRecord {
  return { topic, key, value: serializeEvent(event), headers: eventHeaders(event) };
}
