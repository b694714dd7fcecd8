import type { PoolClient } from 'pg';
import { INCIDENT_COLUMNS, OPEN_SQL, type IncidentRow } from './incident-row.ts';

// The statements IncidentBook reads and locks with (its one write is writeIncidentRows). Each
// answers for a whole batch at once.

const FEEDER_LOCKS =
  "SELECT pg_advisory_xact_lock(hashtextextended('routing.incident:' || k, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n";
/**
 * Storm mode is read under this lock, shared, taken before the feeder locks in the same statement
 * (routing an opening call); `PUT /v1/storm` takes it exclusively, also before any feeder lock, so
 * an incident is never opened with the factor a concurrent storm change is replacing.
 */
export const STORM_LOCK = "hashtextextended('routing.storm', 0)";
const STORM_AND_FEEDER_LOCKS = `SELECT count(*) FROM (SELECT pg_advisory_xact_lock_shared(${STORM_LOCK}) UNION ALL (${FEEDER_LOCKS})) AS locks`;

/** The lock that serialises the incidents of one feeder (or of a 台区 on no known feeder). */
export function lockKey(feederCode: string | null, districtCode: string | null, id?: string): string {
  if (feederCode) return `feeder:${feederCode}`;
  if (districtCode) return `district:${districtCode}`;
  return `incident:${id ?? ''}`;
}

export const rowKey = (row: Pick<IncidentRow, 'feeder_code' | 'district_code' | 'id'>) => lockKey(row.feeder_code, row.district_code, row.id);

/** Transaction-scoped locks on these keys in the given (sorted) order; with `storm`, the storm lock shared first. */
export async function takeLocks(client: PoolClient, keys: string[], storm: boolean): Promise<void> {
  await client.query(storm ? STORM_AND_FEEDER_LOCKS : FEEDER_LOCKS, [keys]);
}

/** Open incidents of these 台区 and feeders, and the incidents with these ids. */
export async function readNear(client: PoolClient, districts: readonly string[], feeders: readonly string[], ids: readonly string[]): Promise<IncidentRow[]> {
  const { rows } = await client.query<IncidentRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM routing.incidents
      WHERE (${OPEN_SQL} AND (district_code = ANY($1::text[]) OR feeder_code = ANY($2::text[]))) OR id = ANY($3::text[])`,
    [districts, feeders, ids],
  );
  return rows;
}

/** What the lock of each incident is derived from. */
export async function readLockKeys(client: PoolClient, ids: readonly string[]): Promise<string[]> {
  const { rows } = await client.query<Pick<IncidentRow, 'id' | 'feeder_code' | 'district_code'>>(
    'SELECT id, feeder_code, district_code FROM routing.incidents WHERE id = ANY($1::text[])',
    [ids],
  );
  return rows.map(rowKey);
}

/** These incidents with their parents, children and siblings. */
export async function readFamilies(client: PoolClient, ids: readonly string[]): Promise<IncidentRow[]> {
  const { rows } = await client.query<IncidentRow>(
    `WITH target AS (SELECT id, parent_id FROM routing.incidents WHERE id = ANY($1::text[]))
     SELECT ${INCIDENT_COLUMNS} FROM routing.incidents
      WHERE id IN (SELECT id FROM target UNION SELECT parent_id FROM target)
         OR parent_id IN (SELECT id FROM target UNION SELECT parent_id FROM target)`,
    [ids],
  );
  return rows;
}

export type StormRows = Map<string, { active: boolean; factor: number }>;

export async function readStorm(client: PoolClient): Promise<StormRows> {
  const { rows } = await client.query<{ grid_id: string; active: boolean; factor: number }>('SELECT grid_id, active, factor FROM routing.storm_mode');
  return new Map(rows.map((r) => [r.grid_id, { active: r.active, factor: r.factor }]));
}

/** Child ids of these incidents, as stored. */
export async function readChildIds(client: PoolClient, parentIds: readonly string[]): Promise<{ id: string; parent_id: string }[]> {
  const { rows } = await client.query<{ id: string; parent_id: string }>('SELECT id, parent_id FROM routing.incidents WHERE parent_id = ANY($1::text[])', [
    parentIds,
  ]);
  return rows;
}

/** Customers per 台区, as counted at the last customers import (routing.district_customers). */
export async function countCustomers(client: PoolClient, districts: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await client.query<{ district_code: string; n: number }>(
    'SELECT district_code, customers AS n FROM routing.district_customers WHERE district_code = ANY($1::text[])',
    [districts],
  );
  return new Map(rows.map((c) => [c.district_code, c.n]));
}
