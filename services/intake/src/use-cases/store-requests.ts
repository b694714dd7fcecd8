import type { RequestStatus } from '@griddispatch/contracts';
import { outboxChannel, outboxColumns, type GroupOutcome, type OutboxRecord, type Pool, type PoolClient } from '@griddispatch/db';
import { HttpError } from '@griddispatch/http';
import { BOARD_CHANNEL, boardPayload } from '../board/changes.ts';
import { SCHEMA } from '../schema.ts';
import type { IntakeRequestBody } from '../domain/request-body.ts';

// The SQL behind POST /v1/requests (and the adapters and Open311): a request row, its first
// timeline entry, the board's NOTIFY and the `requests.received` outbox row, all in one
// statement and so in one transaction (docs/architecture.md#reliability-rules). (source,
// externalId) is the idempotency key: the unique constraint makes concurrent writers of one key
// wait for each other, so exactly one inserts and the others find its row. A group is that one
// statement, committed on its own: one round trip where BEGIN, the rows, the outbox and COMMIT
// took four.

/** A request ready to be written: id, event and fingerprint were fixed when it arrived. */
export interface PreparedRequest {
  id: string;
  body: IntakeRequestBody;
  bodyHash: string;
  channel: string;
  receivedBy: string;
  receivedAt: Date;
  urgency: string;
  /** The `requests.received` event's id (the timeline entry's). */
  eventId: string;
  outbox: OutboxRecord;
}

export interface StoredRequest {
  id: string;
  status: RequestStatus;
  duplicate: boolean;
}

interface ExistingRow {
  id: string;
  body_hash: string;
  status: RequestStatus;
}

const keyOf = (r: PreparedRequest) => JSON.stringify([r.body.source, r.body.externalId]);

/** What a request meets when its key is taken: the same request again, or a 409. */
function answerTaken(r: PreparedRequest, taken: ExistingRow): StoredRequest {
  if (taken.body_hash !== r.bodyHash) {
    throw new HttpError(409, 'idempotency_conflict', `request ${r.body.source}/${r.body.externalId} was already received with a different body`, {
      id: taken.id,
    });
  }
  // Our own id: a group that was retried member by member had committed after all.
  return { id: taken.id, status: taken.status, duplicate: taken.id !== r.id };
}

// Rows, timeline entries, outbox rows and NOTIFYs for every request of `input` whose key is free,
// in one statement; RETURNING names the ids inserted. Rows go in in key order so that two
// concurrent groups take their key locks in the same order and cannot deadlock; outbox rows in
// group order (the relay publishes by id). On a conflict nothing of that request happens.
const INSERT_REQUESTS = `
  WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
      $9::text[], $10::timestamptz[], $11::timestamptz[], $12::jsonb[], $13::jsonb[], $14::text[], $15::text[],
      $17::text[], $18::text[], $19::text[], $20::jsonb[]) WITH ORDINALITY
      AS t(id, source, external_id, body_hash, channel, received_by, category, urgency,
        description, reported_at, received_at, customer, location, event_id, notice,
        topic, key, value, headers, n)),
  inserted AS (
    INSERT INTO intake.requests (id, source, external_id, body_hash, channel, received_by, category, urgency,
      description, reported_at, received_at, customer, location, status, updated_at)
    SELECT id, source, external_id, body_hash, channel, received_by, category, urgency,
      description, reported_at, received_at, customer, location, 'received', received_at
    FROM input ORDER BY source, external_id
    ON CONFLICT (source, external_id) DO NOTHING
    RETURNING id),
  entry AS (
    INSERT INTO intake.timeline (request_id, at, type, by, event_id)
    SELECT input.id, input.received_at, 'request.received', input.received_by, input.event_id FROM input JOIN inserted USING (id)
    RETURNING request_id),
  queued AS (
    INSERT INTO intake.outbox (topic, key, value, headers)
    SELECT input.topic, input.key, input.value, input.headers
    FROM (SELECT pg_notify($21, '')) AS wake, input JOIN inserted USING (id) ORDER BY input.n)
  SELECT entry.request_id AS id, pg_notify($16, input.notice) FROM entry JOIN input ON input.id = entry.request_id`;

async function insertRequests(db: Pool | PoolClient, requests: readonly PreparedRequest[]): Promise<Set<string>> {
  const column = <V>(pick: (r: PreparedRequest) => V) => requests.map(pick);
  const { rows } = await db.query<{ id: string }>(INSERT_REQUESTS, [
    column((r) => r.id),
    column((r) => r.body.source),
    column((r) => r.body.externalId),
    column((r) => r.bodyHash),
    column((r) => r.channel),
    column((r) => r.receivedBy),
    column((r) => r.body.category),
    column((r) => r.urgency),
    column((r) => r.body.description ?? null),
    column((r) => r.body.reportedAt ?? null),
    column((r) => r.receivedAt.toISOString()),
    column((r) => (r.body.customer ? JSON.stringify(r.body.customer) : null)),
    column((r) => JSON.stringify(r.body.location)),
    column((r) => r.eventId),
    column((r) => boardPayload(r.id, 'request.received')),
    BOARD_CHANNEL,
    ...outboxColumns(column((r) => r.outbox)),
    outboxChannel(SCHEMA),
  ]);
  return new Set(rows.map((row) => row.id));
}

/** The rows already holding these requests' keys, by key. */
async function findTaken(db: Pool | PoolClient, requests: readonly PreparedRequest[]): Promise<Map<string, ExistingRow>> {
  const { rows } = await db.query<ExistingRow & { source: string; external_id: string }>(
    `SELECT source, external_id, id, body_hash, status FROM intake.requests
     JOIN unnest($1::text[], $2::text[]) AS k(source, external_id) USING (source, external_id)`,
    [requests.map((r) => r.body.source), requests.map((r) => r.body.externalId)],
  );
  return new Map(rows.map((row) => [JSON.stringify([row.source, row.external_id]), row]));
}

/** One request on its own: a lone request, or a member of a group that failed. */
export async function storeRequest(pool: Pool, request: PreparedRequest): Promise<StoredRequest> {
  const [outcome] = await storeRequests(pool, [request]);
  if (!outcome!.ok) throw outcome!.error;
  return outcome!.value;
}

/**
 * A group of requests in one statement (one transaction), answered exactly as if they had come
 * one by one in group order: the first of a key inserts (unless the key is already stored), a
 * later one with the same key is its duplicate or a 409, and a request answered 409 stores
 * nothing. A 409 is that member's outcome; anything unexpected rejects, and nothing of the group
 * is stored. On a pool the statement commits on its own (the keys found taken are read after it,
 * committed by their writers); on a client it joins the caller's transaction: how a consumer
 * stores a request with its inbox mark (an incident's own work order,
 * docs/architecture.md#incidents rule 2).
 */
export async function storeRequests(db: Pool | PoolClient, group: readonly PreparedRequest[]): Promise<GroupOutcome<StoredRequest>[]> {
  const firstOfKey = new Map<string, PreparedRequest>();
  for (const r of group) if (!firstOfKey.has(keyOf(r))) firstOfKey.set(keyOf(r), r);
  const candidates = [...firstOfKey.values()];
  const inserted = await insertRequests(db, candidates);
  const notInserted = candidates.filter((r) => !inserted.has(r.id));
  const taken = notInserted.length > 0 ? await findTaken(db, notInserted) : new Map<string, ExistingRow>();
  for (const r of notInserted) if (!taken.has(keyOf(r))) throw new Error('request vanished between conflict and lookup');
  for (const r of candidates) {
    if (inserted.has(r.id)) taken.set(keyOf(r), { id: r.id, body_hash: r.bodyHash, status: 'received' });
  }
  return group.map((r): GroupOutcome<StoredRequest> => {
    if (inserted.has(r.id)) return { ok: true, value: { id: r.id, status: 'received', duplicate: false } };
    try {
      return { ok: true, value: answerTaken(r, taken.get(keyOf(r))!) };
    } catch (error) {
      return { ok: false, error };
    }
  });
}
