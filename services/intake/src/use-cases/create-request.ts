import { randomUUID } from 'node:crypto';
import { buildEvent, EventTypeName, Topics } from '@griddispatch/contracts';
import { eventRecord, GroupCommitWriter, type Pool } from '@griddispatch/db';
import { currentTraceparent, type Logger } from '@griddispatch/observability';
import type { IntakeContext } from '../context.ts';
import { bodyHash, type IntakeRequestBody } from '../domain/request-body.ts';
import { storeRequest, storeRequests, type PreparedRequest, type StoredRequest } from './store-requests.ts';

export interface CreateRequestInput {
  body: IntakeRequestBody;
  /** How it came in: `api`, a source adapter (`95598`, `12345`) or `open311`. */
  channel: string;
  /** API key name of the caller. */
  receivedBy: string;
  /** The incident whose own work order this is (docs/architecture.md#incidents rule 2): on `requests.received` for grid-routing. */
  incidentId?: string;
}

export type CreateRequestResult = StoredRequest;

/** Writes requests, grouping concurrent ones into one transaction (one durable commit). */
export type RequestWriter = GroupCommitWriter<PreparedRequest, StoredRequest>;

export function createRequestWriter(pool: Pool, logger: Logger): RequestWriter {
  return new GroupCommitWriter({
    writeGroup: (group) => storeRequests(pool, group),
    writeOne: (request) => storeRequest(pool, request),
    onGroupFailed: (err, size) => logger.warn({ err, size }, 'request group failed to commit; storing its requests one by one'),
  });
}

/**
 * Stores a new request and its `requests.received` event (docs/architecture.md#reliability-rules).
 * It resolves only after the COMMIT of the transaction that wrote it — shared with the requests
 * that arrived at the same time (group commit) — so the caller's 202 means stored. (source, externalId) is the
 * idempotency key: a retry gets the same id with duplicate=true, another body under the key 409.
 */
export async function createRequest(ctx: IntakeContext, input: CreateRequestInput): Promise<CreateRequestResult> {
  const result = await ctx.requestWriter.write(prepareRequest(ctx, input));
  ctx.onAccepted?.(input.channel, result.duplicate);
  return result;
}

/** Id, time, event and fingerprint are fixed on arrival, in the caller's trace context. */
export function prepareRequest(ctx: IntakeContext, input: CreateRequestInput): PreparedRequest {
  const { body } = input;
  const id = randomUUID();
  const receivedAt = ctx.now();
  const urgency = body.urgency ?? 'normal';
  const event = buildEvent({
    type: EventTypeName.requestReceived,
    source: 'intake',
    subject: id,
    time: receivedAt,
    traceparent: currentTraceparent(),
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
      ...(input.incidentId !== undefined ? { incidentId: input.incidentId } : {}),
    },
  });
  return {
    id,
    body,
    bodyHash: bodyHash(body),
    channel: input.channel,
    receivedBy: input.receivedBy,
    receivedAt,
    urgency,
    eventId: event.id,
    outbox: eventRecord(Topics.requestsReceived, id, event),
  };
}
