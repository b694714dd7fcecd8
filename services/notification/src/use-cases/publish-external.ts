import { EXTERNAL_SOURCE_TOPICS, EventTypes, externalTopic, type CloudEvent, type EventType } from '@griddispatch/contracts';
import { enqueueOutbox, eventHeaders, type OutboxRecord, type PoolClient } from '@griddispatch/db';
import type { Redactor } from '../channels/personal-data.ts';
import { SCHEMA } from '../schema.ts';

// The feed for Kafka consumers outside the company (docs/architecture.md#external-feed): each
// integrator-facing event notification consumes is published again on `ext.<topic>`, masked as
// for a webhook subscriber without pii:read (personal-data.ts), with the same key. The row is
// written in the consumer's transaction, beside its inbox mark, so a redelivered event finds the
// mark and publishes nothing twice; the outbox relay publishes it at least once.

const EXTERNAL = new Set<string>(EXTERNAL_SOURCE_TOPICS);

/** The masked copy of a consumed event for `ext.<topic>`; null for a topic outside the feed. */
export function externalRecord(redactor: Redactor, event: CloudEvent, raw: string, key: string): OutboxRecord | null {
  const topic = EventTypes[event.type as EventType].topic;
  if (!EXTERNAL.has(topic)) return null;
  return { topic: externalTopic(topic as (typeof EXTERNAL_SOURCE_TOPICS)[number]), key, value: redactor.redactEvent(raw), headers: eventHeaders(event) };
}

/** A batch's copies, in one statement, before the batch commits. */
export async function publishExternal(client: PoolClient, records: OutboxRecord[]): Promise<void> {
  await enqueueOutbox(client, SCHEMA, records);
}
