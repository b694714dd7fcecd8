import type { PoolClient } from 'pg';
import type { Contact, DispatchAssignedV1 } from '@griddispatch/contracts';
import { SCHEMA } from '../schema.ts';

/** A grid's people as its last primary dispatch named them (the grid's, its area's, the station's). */
export interface GridRecord {
  gridId: string;
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
