import type { PoolClient } from 'pg';
import type { CloudEvent } from '@griddispatch/contracts';
import type { Logger } from '@griddispatch/observability';
import type { BoardNotice } from '../board/changes.ts';
import type { Assignee, RequestStatus } from '../domain/types.ts';
import { afterRouting, type WorkOrderState } from '../domain/work-order-state.ts';
import { catchUpWithIncident } from './follow-incident.ts';

// Effects of the events intake consumes on its read model. Each runs inside the consumer's
// transaction, after the inbox said the event is new; each also guards on the row's state, since
// topics are not ordered against each other (a breach may overtake the assignment it belongs to).
// Each answers whether what the dispatch board shows of the work order changed (a timeline
// entry alone does not), so the boards hear only of real changes. Timeline entries nothing waits
// for are written once per batch (`writeTimeline`); a work-order event's entry is written at once,
// since it decides whether intake applied that event already.

type Ev<T extends CloudEvent['type']> = CloudEvent<T>;

interface Locked extends WorkOrderState {
  assignees: Assignee[];
}

async function lock(client: PoolClient, id: string, log: Logger): Promise<Locked | null> {
  const { rows } = await client.query<{ status: RequestStatus; resume_status: RequestStatus | null; assignees: Assignee[] }>(
    'SELECT status, resume_status, assignees FROM intake.requests WHERE id = $1 FOR UPDATE',
    [id],
  );
  const row = rows[0];
  if (!row) {
    // Every work order starts as an intake request; an id we never stored cannot be shown.
    log.warn('event for a work order intake does not know; ignored');
    return null;
  }
  return { status: row.status, resumeStatus: row.resume_status, assignees: row.assignees };
}

export interface TimelineEntry {
  requestId: string;
  at: string;
  type: string;
  by?: string | undefined;
  note?: string | undefined;
  eventId: string;
}

/** What one consumed batch writes once, at its end: timeline entries nothing waits for, and the boards' notices. */
export interface ReadModelBatch {
  timeline: TimelineEntry[];
  notices: BoardNotice[];
}

/** The batch's deferred timeline entries in one statement (a redelivered event adds nothing). */
export async function writeTimeline(client: PoolClient, entries: TimelineEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const col = <T>(pick: (e: TimelineEntry) => T) => entries.map(pick);
  await client.query(
    `INSERT INTO intake.timeline (request_id, at, type, by, note, event_id)
     SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[])
     ON CONFLICT (event_id) DO NOTHING`,
    [col((e) => e.requestId), col((e) => e.at), col((e) => e.type), col((e) => e.by ?? null), col((e) => e.note ?? null), col((e) => e.eventId)],
  );
}

export async function addTimeline(client: PoolClient, entry: TimelineEntry): Promise<boolean> {
  const res = await client.query(
    `INSERT INTO intake.timeline (request_id, at, type, by, note, event_id) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (event_id) DO NOTHING`,
    [entry.requestId, entry.at, entry.type, entry.by ?? null, entry.note ?? null, entry.eventId],
  );
  return res.rowCount === 1;
}

export async function recordAssignment(
  client: PoolClient,
  event: Ev<'cn.griddispatch.dispatch.assigned.v1'>,
  log: Logger,
  batch: ReadModelBatch,
): Promise<boolean> {
  const d = event.data;
  const row = await lock(client, d.workOrderId, log);
  if (!row) return false;
  const next = afterRouting(row, 'assigned');
  // The ETR shown is the incident's current one once intake heard of the incident (it moves:
  // storm factor, a hand-set ETR); until then the one this routing carried.
  // The grid's area grid is kept beside (grid_areas), in the same statement: keys limited to an
  // area grid see the work orders of the grids under it (visible-grids.ts).
  await client.query(
    `WITH area AS (INSERT INTO intake.grid_areas (grid_id, area_id) SELECT $5, $12::text WHERE $12::text IS NOT NULL
                   ON CONFLICT (grid_id) DO UPDATE SET area_id = EXCLUDED.area_id WHERE intake.grid_areas.area_id <> EXCLUDED.area_id)
     UPDATE intake.requests SET status = $2, resume_status = $3, grid = $4, grid_id = $5, incident_id = $6, assignees = $7,
       sla = $8, updated_at = GREATEST(updated_at, $9), incident_role = $10,
       etr = COALESCE((SELECT etr FROM intake.incidents WHERE id = $6), $11::timestamptz)
     WHERE id = $1`,
    [
      d.workOrderId,
      next.status,
      next.resumeStatus,
      JSON.stringify({ id: d.grid.id, name: d.grid.name, kind: d.grid.kind }),
      d.grid.id,
      d.incidentId,
      JSON.stringify(d.assignees),
      JSON.stringify({ policy: d.sla.policy, deadlines: d.sla.deadlines }),
      event.time,
      d.incidentId ? (d.role ?? null) : null,
      d.incidentId ? (d.etr ?? null) : null,
      d.grid.areaId ?? null,
    ],
  );
  const role = d.incidentId && d.role ? ` · ${d.role} in incident ${d.incidentId}` : '';
  batch.timeline.push({
    requestId: d.workOrderId,
    at: event.time,
    type: 'dispatch.assigned',
    note: `${d.grid.name} (${d.resolvedBy})${role}`,
    eventId: event.id,
  });
  // A merged call routed after its incident moved on catches up with it at once.
  if (d.incidentId && d.role === 'merged') await catchUpWithIncident(client, d.workOrderId, d.incidentId, event, batch);
  return true;
}

export async function recordUnroutable(
  client: PoolClient,
  event: Ev<'cn.griddispatch.dispatch.unroutable.v1'>,
  log: Logger,
  batch: ReadModelBatch,
): Promise<boolean> {
  const d = event.data;
  const row = await lock(client, d.workOrderId, log);
  if (!row) return false;
  const next = afterRouting(row, 'unroutable');
  await client.query('UPDATE intake.requests SET status = $2, resume_status = $3, updated_at = GREATEST(updated_at, $4) WHERE id = $1', [
    d.workOrderId,
    next.status,
    next.resumeStatus,
    event.time,
  ]);
  batch.timeline.push({ requestId: d.workOrderId, at: event.time, type: 'dispatch.unroutable', note: `${d.reason} → ${d.fallbackDesk}`, eventId: event.id });
  return true;
}

/**
 * Intake applied its own work-order events when it accepted them (same event id in the
 * timeline): nothing to do. An event some other producer wrote is applied if it starts from the
 * status we show (state guard); otherwise only its timeline entry is kept.
 */
export async function recordWorkOrderUpdate(
  client: PoolClient,
  event: Ev<'cn.griddispatch.workorder.updated.v1'>,
  log: Logger,
  _batch: ReadModelBatch,
): Promise<boolean> {
  const d = event.data;
  const row = await lock(client, d.workOrderId, log);
  if (!row) return false;
  const added = await addTimeline(client, { requestId: d.workOrderId, at: d.at, type: `workorder.${d.type}`, by: d.by, note: d.note, eventId: event.id });
  if (!added) return false;
  if (row.status !== d.previousStatus) {
    log.info({ status: row.status, previousStatus: d.previousStatus }, 'work-order event does not follow the current status; timeline only');
    return false;
  }
  const resumeStatus = d.status === 'suspended' ? d.previousStatus : null;
  let assignees = row.assignees;
  if (d.assignee) assignees = [{ ...d.assignee, role: assignees[0]?.role ?? 'manager' }, ...assignees.slice(1)];
  await client.query('UPDATE intake.requests SET status = $2, resume_status = $3, assignees = $4, updated_at = GREATEST(updated_at, $5) WHERE id = $1', [
    d.workOrderId,
    d.status,
    resumeStatus,
    JSON.stringify(assignees),
    event.time,
  ]);
  return true;
}

export async function recordSlaWarning(client: PoolClient, event: Ev<'cn.griddispatch.sla.warning.v1'>, log: Logger, batch: ReadModelBatch): Promise<boolean> {
  const d = event.data;
  if (!(await lock(client, d.workOrderId, log))) return false;
  // One entry per stage (the board shows a warned stage amber until it is done).
  const warned = await client.query(`UPDATE intake.requests SET warnings = warnings || $2::jsonb WHERE id = $1 AND NOT warnings @> $3::jsonb`, [
    d.workOrderId,
    JSON.stringify([{ stage: d.stage, deadline: d.deadline }]),
    JSON.stringify([{ stage: d.stage }]),
  ]);
  const minutes = Math.max(0, Math.round(d.remainingMs / 60_000));
  batch.timeline.push({
    requestId: d.workOrderId,
    at: event.time,
    type: 'sla.warning',
    note: `${d.stage} due ${d.deadline} (${minutes} min left)`,
    eventId: event.id,
  });
  return warned.rowCount === 1;
}

export async function recordSlaBreach(client: PoolClient, event: Ev<'cn.griddispatch.sla.breached.v1'>, log: Logger, batch: ReadModelBatch): Promise<boolean> {
  const d = event.data;
  if (!(await lock(client, d.workOrderId, log))) return false;
  // One entry per (stage, level), however often the breach is re-sent.
  const breached = await client.query(
    `UPDATE intake.requests SET breaches = breaches || $2::jsonb, breached = true, updated_at = GREATEST(updated_at, $4)
     WHERE id = $1 AND NOT breaches @> $3::jsonb`,
    [
      d.workOrderId,
      JSON.stringify([{ stage: d.stage, deadline: d.deadline, level: d.level, policy: d.policy }]),
      JSON.stringify([{ stage: d.stage, level: d.level }]),
      event.time,
    ],
  );
  batch.timeline.push({
    requestId: d.workOrderId,
    at: event.time,
    type: 'sla.breached',
    note: `${d.stage} deadline ${d.deadline} missed, level ${d.level}${d.late ? ' (late)' : ''}`,
    eventId: event.id,
  });
  return breached.rowCount === 1;
}
