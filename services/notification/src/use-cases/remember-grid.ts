import type { PoolClient } from 'pg';
import type { Contact, DispatchAssignedV1 } from '@griddispatch/contracts';
import { SCHEMA } from '../schema.ts';

/** A grid's people as its last primary dispatch named them (the grid's, its area's, the station's). */
export interface GridRecord {
  gridId: string;
  areaId: string | null;
  contacts: Contact[];
}

/** One primary dispatch's grid people, as the batch's end writes them. */
export interface GridDispatch {
  data: DispatchAssignedV1;
  now: Date;
}

/**
 * Keeps the grids' people from incidents' primary dispatches, in one statement (one row per grid,
 * the latest wins). Of two dispatches of one grid, the later `now` is kept (the later in
 * `dispatches` on a tie), as if each had been written in turn; rows are written in the order given.
 */
export async function rememberGrids(client: PoolClient, dispatches: readonly GridDispatch[]): Promise<void> {
  const latest = new Map<string, GridDispatch>();
  for (const g of dispatches) {
    const seen = latest.get(g.data.grid.id);
    if (!seen || seen.now.getTime() <= g.now.getTime()) latest.set(g.data.grid.id, g);
  }
  if (latest.size === 0) return;
  const rows = [...latest.values()].map(({ data, now }) => ({
    grid_id: data.grid.id,
    grid_name: data.grid.name,
    area_id: data.grid.areaId ?? null,
    contacts: data.contacts,
    updated_at: now.toISOString(),
  }));
  await client.query(
    `INSERT INTO ${SCHEMA}.grid_contacts (grid_id, grid_name, area_id, contacts, updated_at)
     SELECT grid_id, grid_name, area_id, contacts, updated_at
       FROM jsonb_to_recordset($1::jsonb) AS r(grid_id text, grid_name text, area_id text, contacts jsonb, updated_at timestamptz)
     ON CONFLICT (grid_id) DO UPDATE SET
       grid_name = EXCLUDED.grid_name, area_id = EXCLUDED.area_id, contacts = EXCLUDED.contacts, updated_at = EXCLUDED.updated_at
     WHERE grid_contacts.updated_at <= EXCLUDED.updated_at`,
    [JSON.stringify(rows)],
  );
}
