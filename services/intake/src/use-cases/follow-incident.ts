import type { PoolClient } from 'pg';
import { EventTypes, type CloudEvent, type Incident, type IncidentEventType, type IncidentStatus } from '@griddispatch/contracts';
import type { Logger } from '@griddispatch/observability';
import type { RequestStatus } from '../domain/types.ts';
import type { ReadModelBatch } from './update-read-model.ts';

// intake's copy of the incidents grid-routing owns (docs/architecture.md#incidents), from `incidents.events`: each
// event carries the whole incident after a change, so the read model keeps only the newest
// snapshot. Work orders follow it: every work order of the incident shows its current ETR, and a
// merged one (a later call of the same fault: no crew, no timers of its own) takes the
// incident's status, forward only (rule 3). Nothing is published for them: the incident's
// primary work order carries the field events.

export type IncidentEvent = CloudEvent<IncidentEventType>;

/** Orders snapshots of one incident with equal updatedAt: further along wins. */
export const INCIDENT_STATUS_RANK: Record<IncidentStatus, number> = { open: 0, dispatched: 1, en_route: 2, arrived: 3, restored: 4, closed: 5 };

/** The status a merged work order takes when its incident reaches one. */
const FOLLOWS: Record<IncidentStatus, RequestStatus | null> = {
  open: null,
  dispatched: 'assigned',
  en_route: 'en_route',
  arrived: 'arrived',
  restored: 'resolved',
  closed: 'closed',
};

// The work-order path; a merged order moves only from a status before the target on it
// (suspended, cancelled and unroutable orders are left alone: people decided those).
const PATH: readonly RequestStatus[] = ['received', 'assigned', 'acknowledged', 'en_route', 'arrived', 'resolved', 'closed'];

/** What the kept snapshot said before a newer one replaced it (null: the incident is new here). */
type Before = { status: IncidentStatus; etr: Date } | null;

/**
 * Stores the snapshot if it is newer than the one kept, in one statement: the kept row is locked
 * and read first (`before`, evaluated before the insert), then replaced. Answers what it said
 * before, or `undefined` when the event is not newer: redelivered and overtaken events change
 * nothing, since (updatedAt, status rank, callCount) only grows.
 */
async function storeSnapshot(client: PoolClient, incident: Incident): Promise<Before | undefined> {
  const { rows } = await client.query<{ status: IncidentStatus | null; etr: Date | null }>(
    `WITH before AS MATERIALIZED (SELECT status, etr FROM intake.incidents WHERE id = $1 FOR UPDATE)
     INSERT INTO intake.incidents AS i (id, status, status_rank, grid_id, feeder_code, parent_id, call_count, opened_at, etr, updated_at, data)
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 WHERE (SELECT count(*) FROM before) >= 0
     ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, status_rank = EXCLUDED.status_rank, grid_id = EXCLUDED.grid_id,
       feeder_code = EXCLUDED.feeder_code, parent_id = EXCLUDED.parent_id, call_count = EXCLUDED.call_count,
       opened_at = EXCLUDED.opened_at, etr = EXCLUDED.etr, updated_at = EXCLUDED.updated_at, data = EXCLUDED.data
     WHERE (i.updated_at, i.status_rank, i.call_count) < (EXCLUDED.updated_at, EXCLUDED.status_rank, EXCLUDED.call_count)
     RETURNING (SELECT status FROM before), (SELECT etr FROM before)`,
    [
      incident.id,
      incident.status,
      INCIDENT_STATUS_RANK[incident.status],
      incident.gridId,
      incident.feederCode,
      incident.parentId,
      incident.callCount,
      incident.openedAt,
      incident.etr,
      incident.updatedAt,
      JSON.stringify(incident),
    ],
  );
  const row = rows[0];
  if (!row) return undefined;
  return row.status && row.etr ? { status: row.status, etr: row.etr } : null;
}

/**
 * Moves the incident's merged work orders forward to the status the incident implies; each moved
 * one gets a timeline entry `incident.<status>` under an id made from `eventId`, and a board notice.
 */
async function moveMerged(client: PoolClient, incident: Pick<Incident, 'id' | 'status'>, eventId: string, at: string, batch: ReadModelBatch): Promise<void> {
  const target = FOLLOWS[incident.status];
  if (!target) return;
  const from = PATH.slice(0, PATH.indexOf(target));
  const { rows } = await client.query<{ id: string }>(
    `UPDATE intake.requests SET status = $3, resume_status = NULL, updated_at = GREATEST(updated_at, $4)
     WHERE incident_id = $1 AND incident_role = 'merged' AND status = ANY($2::text[]) RETURNING id`,
    [incident.id, from, target, at],
  );
  for (const { id } of rows) followedIncident(batch, id, incident, eventId, at);
}

/** A merged work order took its incident's status: its timeline entry (id made from `eventId`) and a board notice. */
export function followedIncident(
  batch: Pick<ReadModelBatch, 'timeline' | 'notices'>,
  id: string,
  incident: Pick<Incident, 'id' | 'status'>,
  eventId: string,
  at: string,
): void {
  batch.timeline.push({ requestId: id, at, type: `incident.${incident.status}`, note: `follows incident ${incident.id}`, eventId: `${eventId}/${id}` });
  batch.notices.push({ id, change: 'incident.updated' });
}

/** `incidents.events` → the incident's snapshot, its work orders' ETR and its merged work orders' status. */
export async function recordIncident(client: PoolClient, event: IncidentEvent, log: Logger, batch: ReadModelBatch): Promise<{ applied: boolean }> {
  const { change, ...incident } = event.data;
  // What the work orders show already follows the kept snapshot: a storm's incident changes with
  // every batch of calls, and its thousands of work orders are visited only when the ETR or the
  // status they take from it changed.
  const before = await storeSnapshot(client, incident);
  if (before === undefined) {
    log.info({ incidentId: incident.id, updatedAt: incident.updatedAt }, 'incident event older than the snapshot kept; nothing to do');
    return { applied: false };
  }
  batch.notices.push({ id: incident.id, change: EventTypes[event.type].short, kind: 'incident' });
  log.debug({ incidentId: incident.id, status: incident.status, change }, 'incident snapshot stored');
  if (!before || before.etr.getTime() !== Date.parse(incident.etr)) {
    const etr = await client.query<{ id: string }>(
      `UPDATE intake.requests SET etr = $2 WHERE incident_id = $1 AND etr IS DISTINCT FROM $2::timestamptz RETURNING id`,
      [incident.id, incident.etr],
    );
    for (const { id } of etr.rows) batch.notices.push({ id, change: 'incident.updated' });
  }
  if (!before || before.status !== incident.status) await moveMerged(client, incident, event.id, incident.updatedAt, batch);
  return { applied: true };
}

/** An incident as intake keeps it, for the merged calls routed after it moved on. */
export interface KeptIncident {
  id: string;
  status: IncidentStatus;
  updatedAt: string;
}

export async function keptIncidents(client: PoolClient, ids: string[]): Promise<KeptIncident[]> {
  if (ids.length === 0) return [];
  const { rows } = await client.query<{ id: string; status: IncidentStatus; updated_at: Date }>(
    'SELECT id, status, updated_at FROM intake.incidents WHERE id = ANY($1::text[])',
    [ids],
  );
  return rows.map((r) => ({ id: r.id, status: r.status, updatedAt: r.updated_at.toISOString() }));
}

/**
 * The status a merged work order in `current` takes from its incident in `status`, or null when
 * it stays: only forward along the path, and `assigned` (where routing leaves it) is no move.
 */
export function mergedStatus(status: IncidentStatus, current: RequestStatus): RequestStatus | null {
  const target = FOLLOWS[status];
  if (!target || target === 'assigned') return null;
  return PATH.slice(0, PATH.indexOf(target)).includes(current) ? target : null;
}
