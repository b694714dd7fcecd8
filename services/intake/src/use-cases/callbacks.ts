import type { PoolClient } from 'pg';
import { buildEvent, EventTypeName, Topics, type CallbackReply, type EventData, type Incident, type RequestView } from '@griddispatch/contracts';
import { enqueueOutbox, eventRecord, type OutboxRecord } from '@griddispatch/db';
import { currentTraceparent } from '@griddispatch/observability';
import { SCHEMA } from '../schema.ts';
import { INCIDENT_WORK_ORDER_SOURCE } from './open-incident-work-order.ts';
import type { ReadModelBatch } from './update-read-model.ts';

// Callbacks (回访, docs/architecture.md#callbacks-and-replies). intake owns them: it holds every
// request with the caller's phone and hears each incident's restoration on incidents.events. The
// ask goes to notification on callbacks.events (it texts the caller and matches the reply); the
// answer, by SMS (replies.received) or POST /v1/callbacks/:requestId, is recorded here once and
// told on callbacks.events (grid-routing opens a follow-up incident on `still_out`).

type CallbackEventType = typeof EventTypeName.callbackRequested | typeof EventTypeName.callbackAnswered;

function record<T extends CallbackEventType>(type: T, requestId: string, data: EventData<T>, now: Date): OutboxRecord {
  const event = buildEvent<T>({ type, source: 'intake', subject: requestId, time: now, data, traceparent: currentTraceparent() });
  return eventRecord(Topics.callbacksEvents, requestId, event);
}

/**
 * The incident is restored (or closed): each of its callers not asked yet is asked now — the
 * primary and every merged call, not cancelled ones, not the incident's own work order (nobody
 * called). The callbacks row's primary key makes this once per request, however often the
 * restoration is heard. Those with a phone get the ask by SMS (callback.requested).
 */
export async function askCallbacks(
  client: PoolClient,
  incident: Pick<Incident, 'id' | 'restoredAt'>,
  eventId: string,
  clock: Date,
  batch: Pick<ReadModelBatch, 'timeline'>,
): Promise<number> {
  // Never before the restoration it follows (a field app's clock may run a little ahead of ours).
  const now = incident.restoredAt && Date.parse(incident.restoredAt) > clock.getTime() ? new Date(incident.restoredAt) : clock;
  const { rows } = await client.query<{ request_id: string; phone: string | null }>(
    `INSERT INTO ${SCHEMA}.callbacks (request_id, incident_id, phone, asked_at)
     SELECT id, incident_id, nullif(trim(customer->>'phone'), ''), $2 FROM ${SCHEMA}.requests
      WHERE incident_id = $1 AND status <> 'cancelled' AND source <> $3
     ON CONFLICT (request_id) DO NOTHING
     RETURNING request_id, phone`,
    [incident.id, now, INCIDENT_WORK_ORDER_SOURCE],
  );
  if (rows.length === 0) return 0;
  const restoredAt = incident.restoredAt ?? clock.toISOString();
  // With the batch's other timeline entries (written at its end, after the restoration's own).
  for (const r of rows) {
    batch.timeline.push({
      requestId: r.request_id,
      at: now.toISOString(),
      type: 'callback.asked',
      note: r.phone !== null ? 'asked by SMS' : 'no mobile number: callback by phone',
      eventId: `${eventId}/callback/${r.request_id}`,
    });
  }
  const asks = rows.filter((r): r is { request_id: string; phone: string } => r.phone !== null);
  await enqueueOutbox(
    client,
    SCHEMA,
    asks.map((r) =>
      record(
        EventTypeName.callbackRequested,
        r.request_id,
        { requestId: r.request_id, incidentId: incident.id, phone: r.phone, restoredAt, askedAt: now.toISOString() },
        clock,
      ),
    ),
  );
  return rows.length;
}

export interface CallbackAnswer {
  reply: CallbackReply | null;
  satisfaction: number | null;
  at: Date;
  via: 'sms' | 'api';
}

export type AnswerResult = { status: 'not_asked' } | { status: 'recorded' | 'unchanged'; callback: NonNullable<RequestView['callback']> };

interface CallbackRow {
  incident_id: string;
  phone: string | null;
  asked_at: Date;
  reply: CallbackReply | null;
  satisfaction: number | null;
  answered_at: Date | null;
}

function view(row: CallbackRow): NonNullable<RequestView['callback']> {
  return {
    askedAt: row.asked_at.toISOString(),
    bySms: row.phone !== null,
    reply: row.reply,
    satisfaction: row.satisfaction,
    answeredAt: row.answered_at?.toISOString() ?? null,
  };
}

/**
 * Records a caller's answer. The first reply and the first satisfaction are kept: a duplicate, a
 * late or a contradicting reply changes nothing (the first one may already have opened a
 * follow-up incident); a satisfaction sent after the reply is added. What this answer added is
 * told once on callbacks.events.
 */
export async function answerCallback(client: PoolClient, requestId: string, answer: CallbackAnswer, eventId: string, now: Date): Promise<AnswerResult> {
  const { rows } = await client.query<CallbackRow>(
    `SELECT incident_id, phone, asked_at, reply, satisfaction, answered_at FROM ${SCHEMA}.callbacks WHERE request_id = $1 FOR UPDATE`,
    [requestId],
  );
  const row = rows[0];
  if (!row) return { status: 'not_asked' };
  const reply = row.reply === null ? answer.reply : null;
  const satisfaction = row.satisfaction === null ? answer.satisfaction : null;
  if (reply === null && satisfaction === null) return { status: 'unchanged', callback: view(row) };
  const { rows: updated } = await client.query<CallbackRow>(
    `UPDATE ${SCHEMA}.callbacks SET reply = coalesce(reply, $2), satisfaction = coalesce(satisfaction, $3),
       answered_at = coalesce(answered_at, $4), answered_via = coalesce(answered_via, $5)
     WHERE request_id = $1 RETURNING incident_id, phone, asked_at, reply, satisfaction, answered_at`,
    [requestId, reply, satisfaction, answer.at, answer.via],
  );
  const note = [reply, satisfaction !== null ? `satisfaction ${satisfaction}` : null].filter(Boolean).join(', ');
  await client.query(
    `INSERT INTO ${SCHEMA}.timeline (request_id, at, type, by, note, event_id) VALUES ($1, $2, 'callback.answered', $3, $4, $5) ON CONFLICT (event_id) DO NOTHING`,
    [requestId, answer.at, answer.via, note, `${eventId}/callback`],
  );
  await enqueueOutbox(client, SCHEMA, [
    record(
      EventTypeName.callbackAnswered,
      requestId,
      { requestId, incidentId: row.incident_id, reply, satisfaction, at: answer.at.toISOString(), via: answer.via },
      now,
    ),
  ]);
  return { status: 'recorded', callback: view(updated[0]!) };
}

/** The request's callback for the read model (GET /v1/requests/:id); null before it was asked. */
export async function viewCallback(client: Pick<PoolClient, 'query'>, requestId: string): Promise<RequestView['callback']> {
  const { rows } = await client.query<CallbackRow>(
    `SELECT incident_id, phone, asked_at, reply, satisfaction, answered_at FROM ${SCHEMA}.callbacks WHERE request_id = $1`,
    [requestId],
  );
  return rows[0] ? view(rows[0]) : null;
}
