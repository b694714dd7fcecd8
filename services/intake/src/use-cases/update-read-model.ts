import type { PoolClient } from 'pg';
import type { CloudEvent, EventType } from '@griddispatch/contracts';
import type { Logger } from '@griddispatch/observability';
import type { BoardNotice } from '../board/changes.ts';
import type { Assignee, RequestStatus } from '../domain/types.ts';
import { afterRouting, type WorkOrderState } from '../domain/work-order-state.ts';
import { followedIncident, keptIncidents, mergedStatus, type KeptIncident } from './follow-incident.ts';

// Effects of the events intake consumes on its read model. Each runs inside the consumer's
// transaction, after the inbox said the event is new; each also guards on the row's state, since
// topics are not ordered against each other (a breach may overtake the assignment it belongs to).
// Each answers whether what the dispatch board shows of the work order changed (a timeline
// entry alone does not), so the boards hear only of real changes. The batch's work orders are
// locked in one statement before any event is applied (`prepareReadModel`); what a storm brings
// by the thousand — assignments and their timeline entries — is computed here and written once
// per batch (`writeAssignments`, from the consumer's finish). A work-order event's entry is written at once, since it decides
// whether intake applied that event already.

/**
 * Applies one consumed event to the read model, inside the inbox transaction. Resolves to
 * whether what the dispatch board shows of the work order changed.
 */
export type ReadModelHandler<T extends EventType> = (client: PoolClient, event: CloudEvent<T>, log: Logger, batch: ReadModelBatch) => Promise<boolean>;

interface Locked extends WorkOrderState {
  assignees: Assignee[];
}

export interface TimelineEntry {
  requestId: string;
  at: string;
  type: string;
  by?: string | undefined;
  note?: string | undefined;
  eventId: string;
}

/** A work order's row as one batch's assignments leave it (written by `writeAssignments`). */
interface AssignedRow {
  id: string;
  state: WorkOrderState;
  grid: string;
  gridId: string;
  incidentId: string | null;
  assignees: string;
  sla: string;
  updatedAt: string;
  role: string | null;
  etr: string | null;
}

/** What one consumed batch shares and writes once, at its end. */
export interface ReadModelBatch {
  /** The batch's work orders, locked (null: intake never stored that id). */
  rows: Map<string, Locked | null>;
  /** Kept incidents the batch's merged calls catch up with. */
  incidents: Map<string, KeptIncident>;
  /** Assignments computed, not yet written; and the area grid of each grid they name. */
  assigned: Map<string, AssignedRow>;
  areas: Map<string, string>;
  timeline: TimelineEntry[];
  notices: BoardNotice[];
}

/** The work order an event of the read model is about. */
type WorkOrderEvent = CloudEvent & { data: { workOrderId: string } };

/**
 * Locks the batch's work orders in one statement, in id order (the consumer's `orderKey`: batches
 * of other partitions lock in the same order and cannot deadlock), and reads the incidents its
 * merged calls belong to.
 */
export async function prepareReadModel(client: PoolClient, events: WorkOrderEvent[]): Promise<ReadModelBatch> {
  const batch: ReadModelBatch = { rows: new Map(), incidents: new Map(), assigned: new Map(), areas: new Map(), timeline: [], notices: [] };
  const ids = [...new Set(events.map((e) => e.data.workOrderId))].sort();
  if (ids.length === 0) return batch;
  await lockRows(client, batch, ids);
  const merged = events.flatMap((e) => (isAssignment(e) && e.data.role === 'merged' && e.data.incidentId ? [e.data.incidentId] : []));
  for (const incident of await keptIncidents(client, [...new Set(merged)])) batch.incidents.set(incident.id, incident);
  return batch;
}

function isAssignment(event: CloudEvent): event is CloudEvent<'cn.griddispatch.dispatch.assigned.v1'> {
  return event.type === 'cn.griddispatch.dispatch.assigned.v1';
}

/** Locks the work orders `ids` (sorted) and keeps their rows in the batch; null for an id intake never stored. */
async function lockRows(client: PoolClient, batch: ReadModelBatch, ids: string[]): Promise<void> {
  for (const id of ids) batch.rows.set(id, null);
  const { rows } = await client.query<{ id: string; status: RequestStatus; resume_status: RequestStatus | null; assignees: Assignee[] }>(
    'SELECT id, status, resume_status, assignees FROM intake.requests WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
    [ids],
  );
  for (const r of rows) batch.rows.set(r.id, { status: r.status, resumeStatus: r.resume_status, assignees: r.assignees });
}

/** The work order's row, locked by `prepareReadModel` (or here, for one the batch did not name). */
async function lock(client: PoolClient, batch: ReadModelBatch, id: string, log: Logger): Promise<Locked | null> {
  if (!batch.rows.has(id)) await lockRows(client, batch, [id]);
  const row = batch.rows.get(id) ?? null;
  // Every work order starts as an intake request; an id we never stored cannot be shown.
  if (!row) log.warn('event for a work order intake does not know; ignored');
  return row;
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

/**
 * `dispatch.assigned`: computed now against the locked row, written with the batch's other
 * assignments (`writeAssignments`). A merged call routed after its incident moved on takes the
 * incident's status at once.
 */
export const recordAssignment: ReadModelHandler<'cn.griddispatch.dispatch.assigned.v1'> = async (client, event, log, batch) => {
  const d = event.data;
  const row = await lock(client, batch, d.workOrderId, log);
  if (!row) return false;
  let state = afterRouting(row, 'assigned');
  let updatedAt = event.time;
  const role = d.incidentId && d.role ? ` · ${d.role} in incident ${d.incidentId}` : '';
  batch.timeline.push({
    requestId: d.workOrderId,
    at: event.time,
    type: 'dispatch.assigned',
    note: `${d.grid.name} (${d.resolvedBy})${role}`,
    eventId: event.id,
  });
  const incident = d.incidentId && d.role === 'merged' ? batch.incidents.get(d.incidentId) : undefined;
  const caughtUp = incident && mergedStatus(incident.status, state.status);
  if (caughtUp) {
    const at = Date.parse(incident.updatedAt) > Date.parse(event.time) ? incident.updatedAt : event.time;
    state = { status: caughtUp, resumeStatus: null };
    updatedAt = at;
    followedIncident(batch, d.workOrderId, incident, event.id, at);
  }
  batch.rows.set(d.workOrderId, { ...state, assignees: d.assignees });
  const before = batch.assigned.get(d.workOrderId);
  batch.assigned.set(d.workOrderId, {
    id: d.workOrderId,
    state,
    grid: JSON.stringify({ id: d.grid.id, name: d.grid.name, kind: d.grid.kind }),
    gridId: d.grid.id,
    incidentId: d.incidentId,
    assignees: JSON.stringify(d.assignees),
    sla: JSON.stringify({ policy: d.sla.policy, deadlines: d.sla.deadlines }),
    updatedAt: before && Date.parse(before.updatedAt) > Date.parse(updatedAt) ? before.updatedAt : updatedAt,
    // The ETR shown is the incident's current one once intake heard of the incident (it moves:
    // storm factor, a hand-set ETR); until then the one this routing carried.
    role: d.incidentId ? (d.role ?? null) : null,
    etr: d.incidentId ? (d.etr ?? null) : null,
  });
  // Keys limited to an area grid see the work orders of the grids under it (visible-grids.ts).
  if (d.grid.areaId) batch.areas.set(d.grid.id, d.grid.areaId);
  return true;
};

/** The batch's assignments in one statement, and the area grids they named in one more. */
export async function writeAssignments(client: PoolClient, batch: ReadModelBatch): Promise<void> {
  if (batch.areas.size > 0) {
    await client.query(
      `INSERT INTO intake.grid_areas (grid_id, area_id) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (grid_id) DO UPDATE SET area_id = EXCLUDED.area_id WHERE intake.grid_areas.area_id <> EXCLUDED.area_id`,
      [[...batch.areas.keys()], [...batch.areas.values()]],
    );
    batch.areas.clear();
  }
  if (batch.assigned.size === 0) return;
  const rows = [...batch.assigned.values()];
  const col = <T>(pick: (r: AssignedRow) => T) => rows.map(pick);
  await client.query(
    `UPDATE intake.requests r SET status = u.status, resume_status = u.resume_status, grid = u.grid, grid_id = u.grid_id, incident_id = u.incident_id,
       assignees = u.assignees, sla = u.sla, updated_at = GREATEST(r.updated_at, u.updated_at), incident_role = u.role,
       etr = COALESCE((SELECT etr FROM intake.incidents i WHERE i.id = u.incident_id), u.etr)
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::text[], $6::text[], $7::jsonb[], $8::jsonb[], $9::timestamptz[], $10::text[], $11::timestamptz[])
       AS u(id, status, resume_status, grid, grid_id, incident_id, assignees, sla, updated_at, role, etr)
     WHERE r.id = u.id`,
    [
      col((r) => r.id),
      col((r) => r.state.status),
      col((r) => r.state.resumeStatus),
      col((r) => r.grid),
      col((r) => r.gridId),
      col((r) => r.incidentId),
      col((r) => r.assignees),
      col((r) => r.sla),
      col((r) => r.updatedAt),
      col((r) => r.role),
      col((r) => r.etr),
    ],
  );
  batch.assigned.clear();
}

/**
 * Before an effect on work orders the batch may hold (an incident's, a reply's): the assignments
 * computed so far are written, and work orders are read again after it.
 */
export async function settle(client: PoolClient, batch: ReadModelBatch): Promise<void> {
  await writeAssignments(client, batch);
  batch.rows.clear();
}

/** `lock`, for an effect that writes the work order's status itself: the batch's assignments are written first. */
async function lockToWrite(client: PoolClient, batch: ReadModelBatch, id: string, log: Logger): Promise<Locked | null> {
  const row = await lock(client, batch, id, log);
  if (row) await writeAssignments(client, batch);
  return row;
}

export const recordUnroutable: ReadModelHandler<'cn.griddispatch.dispatch.unroutable.v1'> = async (client, event, log, batch) => {
  const d = event.data;
  const row = await lockToWrite(client, batch, d.workOrderId, log);
  if (!row) return false;
  const next = afterRouting(row, 'unroutable');
  await client.query('UPDATE intake.requests SET status = $2, resume_status = $3, updated_at = GREATEST(updated_at, $4) WHERE id = $1', [
    d.workOrderId,
    next.status,
    next.resumeStatus,
    event.time,
  ]);
  batch.rows.set(d.workOrderId, { ...row, ...next });
  batch.timeline.push({ requestId: d.workOrderId, at: event.time, type: 'dispatch.unroutable', note: `${d.reason} → ${d.fallbackDesk}`, eventId: event.id });
  return true;
};

/**
 * Intake applied its own work-order events when it accepted them (same event id in the
 * timeline): nothing to do. An event some other producer wrote is applied if it starts from the
 * status we show (state guard); otherwise only its timeline entry is kept.
 */
export const recordWorkOrderUpdate: ReadModelHandler<'cn.griddispatch.workorder.updated.v1'> = async (client, event, log, batch) => {
  const d = event.data;
  const row = await lockToWrite(client, batch, d.workOrderId, log);
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
  batch.rows.set(d.workOrderId, { status: d.status, resumeStatus, assignees });
  return true;
};

export const recordSlaWarning: ReadModelHandler<'cn.griddispatch.sla.warning.v1'> = async (client, event, log, batch) => {
  const d = event.data;
  if (!(await lock(client, batch, d.workOrderId, log))) return false;
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
};

export const recordSlaBreach: ReadModelHandler<'cn.griddispatch.sla.breached.v1'> = async (client, event, log, batch) => {
  const d = event.data;
  if (!(await lock(client, batch, d.workOrderId, log))) return false;
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
};
