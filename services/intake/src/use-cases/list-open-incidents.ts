import type { Pool } from 'pg';
import type { Incident } from '@griddispatch/contracts';
import { BOARD_INCIDENT_OPEN_STATUSES, toBoardIncident, type BoardIncident } from '../board/incident-view.ts';

export interface ListOpenIncidentsQuery {
  gridIds?: string[];
  limit: number;
}

/**
 * The board's incidents: not yet restored, newest first. A feeder incident's open children are
 * listed too (the page nests them under it).
 */
export async function listOpenIncidents(pool: Pool, q: ListOpenIncidentsQuery): Promise<{ items: BoardIncident[]; truncated: boolean }> {
  // Spelled out (constants), so PostgreSQL matches incidents_open_idx's predicate.
  const { rows } = await pool.query<{ status: string; data: Incident }>(
    `SELECT status, data FROM intake.incidents
     WHERE status IN (${BOARD_INCIDENT_OPEN_STATUSES.map((s) => `'${s}'`).join(', ')}) AND ($1::text[] IS NULL OR grid_id = ANY($1))
     ORDER BY opened_at DESC, id LIMIT $2`,
    [q.gridIds ?? null, q.limit + 1],
  );
  return { items: rows.slice(0, q.limit).map(toBoardIncident), truncated: rows.length > q.limit };
}
