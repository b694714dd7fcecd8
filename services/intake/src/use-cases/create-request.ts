import { randomUUID } from 'node:crypto';
import { buildEvent, CLOUDEVENTS_CONTENT_TYPE, EventTypeName, serializeEvent, Topics, type RequestStatus } from '@griddispatch/contracts';
import { enqueueOutbox, withTransaction } from '@griddispatch/db';
import { HttpError } from '@griddispatch/http';
import { currentTraceparent } from '@griddispatch/observability';
import { BOARD_CHANNEL, boardPayload } from '../board/changes.ts';
import { SCHEMA, type IntakeContext } from '../context.ts';
import { bodyHash, type IntakeRequestBody } from '../domain/request-body.ts';

export interface CreateRequestInput {
  body: IntakeRequestBody;
  /** How it came in: `api`, a source adapter (`95598`, `12345`) or `open311`. */
  channel: string;
  /** API key name of the caller. */
  receivedBy: string;
}

export interface CreateRequestResult {
  id: string;
  status: RequestStatus;
  duplicate: boolean;
}

/**
 * Stores a new request and its `requests.received` event in one transaction (docs/architecture.md#reliability-rules); the
 * caller answers 202 only after this resolves, i.e. after COMMIT. (source, externalId) is the
 * idempotency key: the unique constraint makes concurrent identical POSTs wait for each other,
 * so exactly one inserts and the others find its row.
 */
export async function createRequest(ctx: IntakeContext, input: CreateRequestInput): Promise<CreateRequestResult> {
  const { body } = input;
  const hash = bodyHash(body);
  const id = randomUUID();
  const receivedAt = ctx.now();
  const urgency = body.urgency ?? 'normal';
  const traceparent = currentTraceparent();
  const event = buildEvent({
    type: EventTypeName.requestReceived,
    source: 'intake',
    subject: id,
    time: receivedAt,
    ...(traceparent ? { traceparent } : {}),
    data: {
      id,
      source: body.source,
      externalId: body.externalId,
      category: body.category,
      description: body.description,
      reportedAt: body.reportedAt,
      receivedAt: receivedAt.toISOString(),
      urgency,
      customer: body.customer,
      location: body.location,
    },
  });
  const result = await withTransaction(ctx.pool, async (client): Promise<CreateRequestResult> => {
    // One statement for the row, its first timeline entry and the board's NOTIFY (sent at
    // commit); on a conflict none of them happens.
    const inserted = await client.query(
      `WITH inserted AS (
         INSERT INTO intake.requests (id, source, external_id, body_hash, channel, received_by, category, urgency,
           description, reported_at, received_at, customer, location, status, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'received', $11)
         ON CONFLICT (source, external_id) DO NOTHING
         RETURNING id, received_at),
       entry AS (
         INSERT INTO intake.timeline (request_id, at, type, by, event_id)
         SELECT id, received_at, 'request.received', $6, $14 FROM inserted
         RETURNING request_id)
       SELECT pg_notify($15, $16) FROM entry`,
      [id, body.source, body.externalId, hash, input.channel, input.receivedBy, body.category, urgency, body.description ?? null,
        body.reportedAt ?? null, receivedAt, body.customer ? JSON.stringify(body.customer) : null, JSON.stringify(body.location), event.id,
        BOARD_CHANNEL, boardPayload(id, 'request.received')],
    );
    if (inserted.rowCount === 0) {
      const { rows } = await client.query<{ id: string; body_hash: string; status: RequestStatus }>(
        'SELECT id, body_hash, status FROM intake.requests WHERE source = $1 AND external_id = $2',
        [body.source, body.externalId],
      );
      const existing = rows[0];
      if (!existing) throw new Error('request vanished between conflict and lookup');
      if (existing.body_hash !== hash) {
        throw new HttpError(409, 'idempotency_conflict', `request ${body.source}/${body.externalId} was already received with a different body`, {
          id: existing.id,
        });
      }
      return { id: existing.id, status: existing.status, duplicate: true };
    }
    await enqueueOutbox(client, SCHEMA, [
      {
        topic: Topics.requestsReceived,
        key: id,
        value: serializeEvent(event),
        headers: { 'content-type': CLOUDEVENTS_CONTENT_TYPE, ...(traceparent ? { traceparent } : {}) },
      },
    ]);
    return { id, status: 'received' as const, duplicate: false };
  });
  ctx.onAccepted?.(input.channel, result.duplicate);
  return result;
}
