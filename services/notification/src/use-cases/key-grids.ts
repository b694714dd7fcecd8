import type { Pool, PoolClient } from 'pg';
import { keyGridLimits } from '@griddispatch/http';
import { SCHEMA } from '../schema.ts';

// Keys that carry allowed grids (GD_API_KEYS `:grids=g+g`, `keys create --grids`): their
// subscriptions hear only of those grids and of the grids under them. Subscriptions match an
// event by its grid and its area grid (find-subscribers.ts), so an area grid in the list covers
// its district grids; a district grid named by a subscription is inside a key's area grid when a
// dispatch has told us so (grid_contacts, work_order_contacts).

/** gridIds outside the key's grids (403, nothing stored). */
export class GridNotAllowedError extends Error {
  override name = 'GridNotAllowedError';
  constructor(
    readonly keyName: string,
    readonly grids: string[],
  ) {
    super(`API key "${keyName}" may not subscribe to grid${grids.length > 1 ? 's' : ''} ${grids.join(', ')} (outside the grids the key allows)`);
  }
}

/** Of `wanted`, those inside `allowed`: listed there, or known to lie under an area grid listed there. */
export async function gridsInside(client: PoolClient | Pool, wanted: readonly string[], allowed: readonly string[]): Promise<Set<string>> {
  const inside = new Set(wanted.filter((g) => allowed.includes(g)));
  const rest = wanted.filter((g) => !inside.has(g));
  if (rest.length === 0) return inside;
  const { rows } = await client.query<{ grid_id: string }>(
    `SELECT grid_id FROM ${SCHEMA}.grid_contacts WHERE grid_id = ANY($1::text[]) AND area_id = ANY($2::text[])
     UNION SELECT DISTINCT grid_id FROM ${SCHEMA}.work_order_contacts WHERE grid_id = ANY($1::text[]) AND area_id = ANY($2::text[])`,
    [rest, allowed],
  );
  for (const r of rows) inside.add(r.grid_id);
  return inside;
}

/**
 * The grid filter a new subscription is stored with: for a key without grids, what was asked
 * (null: every grid); for a key with grids, the asked grids if all lie inside them (else
 * GridNotAllowedError), or the key's grids when none were asked.
 */
export async function subscriptionGrids(
  client: PoolClient,
  keyName: string,
  asked: readonly string[] | undefined,
  allowed: readonly string[] | null,
): Promise<string[] | null> {
  const wanted = asked && asked.length > 0 ? [...new Set(asked)] : null;
  if (allowed === null) return wanted;
  if (wanted === null) return [...allowed];
  const inside = await gridsInside(client, wanted, allowed);
  const outside = wanted.filter((g) => !inside.has(g));
  if (outside.length > 0) throw new GridNotAllowedError(keyName, outside);
  return wanted;
}

/**
 * At start, after GD_API_KEYS was applied: each subscription keeps only the grids its key still
 * allows (a subscription made before the key had grids takes the key's grids); one left with none
 * is disabled. So removing grids from a key takes effect at the next start, as the list is the
 * whole truth. Keys without grids leave their subscriptions alone.
 */
export async function limitSubscriptionsToKeys(pool: Pool, now: Date): Promise<{ narrowed: number; disabled: number }> {
  let narrowed = 0;
  let disabled = 0;
  for (const [keyName, allowed] of await keyGridLimits(pool)) {
    const { rows } = await pool.query<{ id: string; grid_ids: string[] | null }>(
      `SELECT id, grid_ids FROM ${SCHEMA}.subscriptions WHERE created_by = $1 AND status = 'active'`,
      [keyName],
    );
    for (const sub of rows) {
      const kept = sub.grid_ids === null ? [...allowed] : [...(await gridsInside(pool, sub.grid_ids, allowed))].sort();
      if (sub.grid_ids !== null && kept.length === sub.grid_ids.length) continue;
      if (kept.length === 0) {
        await pool.query(
          `UPDATE ${SCHEMA}.subscriptions SET status = 'disabled', disabled_reason = 'its API key no longer allows any of its grids', updated_at = $2 WHERE id = $1`,
          [sub.id, now],
        );
        disabled += 1;
      } else {
        await pool.query(`UPDATE ${SCHEMA}.subscriptions SET grid_ids = $2, updated_at = $3 WHERE id = $1`, [sub.id, kept, now]);
        narrowed += 1;
      }
    }
  }
  return { narrowed, disabled };
}
