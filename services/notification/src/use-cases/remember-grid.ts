import type { PoolClient } from 'pg';
import type { Contact, DispatchAssignedV1 } from '@griddispatch/contracts';
import { SCHEMA } from '../schema.ts';

/** A grid's people as its last primary dispatch named them (the grid's, its area's, the station's). */
export interface GridRecord {
  gridId: string;
  gridName: string;
  areaId: string | null;
  contacts: Contact[];
}

/** Keeps the grid's people from an incident's primary dispatch (one row per grid, the latest wins). */
export async function rememberGrid(client: PoolClient, data: DispatchAssignedV1, now: Date): Promise<void> {
  await client.query(
    `INSERT INTO ${SCHEMA}.grid_contacts (grid_id, grid_name, area_id, contacts, updated_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (grid_id) DO UPDATE SET
       grid_name = EXCLUDED.grid_name, area_id = EXCLUDED.area_id, contacts = EXCLUDED.contacts, updated_at = EXCLUDED.updated_at
     WHERE grid_contacts.updated_at <= EXCLUDED.updated_at`,
    [data.grid.id, data.grid.name, data.grid.areaId ?? null, JSON.stringify(data.contacts), now],
  );
}

/**
 * The people of `gridId`: its own row, else the latest row of a grid under it (an area grid's
 * crew and station head are among the contacts of each of its district grids). Null while no
 * primary dispatch of the grid or below it has been seen.
 */
export async function findGrid(client: PoolClient, gridId: string): Promise<GridRecord | null> {
  const { rows } = await client.query<{ grid_id: string; grid_name: string; area_id: string | null; contacts: Contact[] }>(
    `SELECT grid_id, grid_name, area_id, contacts FROM ${SCHEMA}.grid_contacts
      WHERE grid_id = $1 OR area_id = $1
      ORDER BY (grid_id = $1) DESC, updated_at DESC LIMIT 1`,
    [gridId],
  );
  const r = rows[0];
  return r ? { gridId: r.grid_id, gridName: r.grid_name, areaId: r.area_id, contacts: r.contacts } : null;
}
