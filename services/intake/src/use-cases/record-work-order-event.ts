import { buildEvent, EventTypeName, Topics, type RequestStatus, type WorkOrderEventBody } from '@griddispatch/contracts';
import { enqueueOutbox, eventRecord, withTransaction, type PoolClient } from '@griddispatch/db';
import { HttpError } from '@griddispatch/http';
import { currentTraceparent } from '@griddispatch/observability';
import { BOARD_CHANNEL, boardPayload } from '../board/changes.ts';
import type { IntakeContext } from '../context.ts';
import { SCHEMA } from '../schema.ts';
import type { Assignee } from '../domain/types.ts';
import { transition } from '../domain/work-order-state.ts';

/** How far in the future a field app's clock may be before `at` is refused. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export interface RecordWorkOrderEventResult {
  workOrderId: string;
  eventId: string;
  previousStatus: RequestStatus;
  status: RequestStatus;
}

/**
 * Applies a field-app / operator event to the work order (state machine of docs/architecture.md#domain-words) and
 * writes `workorders.events` in the same transaction. The row lock serialises concurrent events
 * on one work order, so two "arrived" cannot both pass.
 */
export async function recordWorkOrderEvent(
  ctx: IntakeContext,
  workOrderId: string,
  body: WorkOrderEventBody,
  caller: string,
): Promise<RecordWorkOrderEventResult> {
  if (body.type === 'reassigned' && !body.assignee) {
    throw new HttpError(400, 'validation_failed', 'assignee: required for a reassigned event', [
      { in: 'body', path: 'assignee', message: 'required for a reassigned event' },
    ]);
  }
  if (body.type !== 'reassigned' && body.assignee) {
    throw new HttpError(400, 'validation_failed', 'assignee: only allowed for a reassigned event', [
      { in: 'body', path: 'assignee', message: 'only allowed for a reassigned event' },
    ]);
  }
  const now = ctx.now();
  const at = body.at ? new Date(body.at) : now;
  if (at.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) {
    throw new HttpError(400, 'validation_failed', 'at: lies in the future', [{ in: 'body', path: 'at', message: 'lies in the future' }]);
  }
  return withTransaction(ctx.pool, (client) => applyWorkOrderEvent(client, workOrderId, body, caller, now, at));
}

/**
 * The work-order event on the caller's transaction: the HTTP route's and an SMS acknowledgement's
 * (replies.received) one path, so the sla-timer's clocks stop alike. Throws HttpError 404 / 409
 * before writing anything.
 */
export async function applyWorkOrderEvent(
  client: PoolClient,
  workOrderId: string,
  body: WorkOrderEventBody,
  caller: string,
  now: Date,
  at: Date,
): Promise<RecordWorkOrderEventResult> {
  // Who did it: the person the app names, else the calling system.
  const by = body.by ?? caller;
  {
    const { rows } = await client.query<{ status: RequestStatus; resume_status: RequestStatus | null; grid_id: string | null; assignees: Assignee[] }>(
      'SELECT status, resume_status, grid_id, assignees FROM intake.requests WHERE id = $1 FOR UPDATE',
      [workOrderId],
    );
    const row = rows[0];
    if (!row) throw new HttpError(404, 'not_found', `work order ${workOrderId} not found`);
    const result = transition({ status: row.status, resumeStatus: row.resume_status }, body.type);
    if (!result.ok) {
      throw new HttpError(409, 'illegal_transition', `${body.type} is not allowed while the work order is ${row.status}`, {
        status: row.status,
        allowed: result.allowed,
      });
    }
    let assignees = row.assignees;
    if (body.assignee) {
      const primary = assignees[0];
      assignees = [{ ...body.assignee, role: primary?.role ?? 'manager' }, ...assignees.slice(1)];
    }
    const event = buildEvent({
      type: EventTypeName.workorderUpdated,
      source: 'intake',
      subject: workOrderId,
      time: now,
      traceparent: currentTraceparent(),
      data: {
        workOrderId,
        type: body.type,
        at: at.toISOString(),
        by,
        note: body.note,
        previousStatus: row.status,
        status: result.state.status,
        gridId: row.grid_id,
        assignee: body.assignee,
      },
    });
    await client.query(`UPDATE intake.requests SET status = $2, resume_status = $3, assignees = $4, updated_at = $5 WHERE id = $1`, [
      workOrderId,
      result.state.status,
      result.state.resumeStatus,
      JSON.stringify(assignees),
      now,
    ]);
    // The timeline entry and the board's NOTIFY (sent at commit) in one round trip.
    await client.query(
      `WITH entry AS (
         INSERT INTO intake.timeline (request_id, at, type, by, note, event_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING request_id)
       SELECT pg_notify($7, $8) FROM entry`,
      [workOrderId, at, `workorder.${body.type}`, by, body.note ?? null, event.id, BOARD_CHANNEL, boardPayload(workOrderId, 'workorder.updated')],
    );
    await enqueueOutbox(client, SCHEMA, [eventRecord(Topics.workordersEvents, workOrderId, event)]);
    return { workOrderId, eventId: event.id, previousStatus: row.status, status: result.state.status };
  }
}
