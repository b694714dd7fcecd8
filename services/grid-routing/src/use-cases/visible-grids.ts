import type { Pool } from 'pg';
import { HttpError, type Principal } from '@griddispatch/http';

/**
 * The grids a caller may see: null for a key without allowed grids (every grid); otherwise the
 * key's grids and every grid under them (routing.grids' parent chain), so a key holding an area
 * grid sees its district grids' incidents.
 */
export async function visibleGrids(pool: Pool, principal: Principal): Promise<ReadonlySet<string> | null> {
  if (principal.grids === null) return null;
  const { rows } = await pool.query<{ id: string }>(
    `WITH RECURSIVE under(id) AS (SELECT unnest($1::text[]) UNION SELECT g.id FROM routing.grids g JOIN under u ON g.parent_id = u.id)
     SELECT id FROM under`,
    [principal.grids],
  );
  return new Set(rows.map((r) => r.id));
}

/** A grid filter the caller asked for must lie inside what it may see: 403 otherwise. */
export function refuseForeignGrid(visible: ReadonlySet<string> | null, gridId: string | undefined, keyName: string): void {
  if (visible && gridId !== undefined && !visible.has(gridId)) {
    throw new HttpError(403, 'grid_not_allowed', `API key "${keyName}" may not see grid ${gridId}`, { grids: [gridId] });
  }
}

/** What covers every grid at once (reports, the fallback desk's unroutable requests): not for a key limited to grids. */
export function refuseGridLimitedKey(principal: Principal, what: string): void {
  if (principal.grids !== null) {
    throw new HttpError(
      403,
      'grid_not_allowed',
      `API key "${principal.keyName}" is limited to grids ${principal.grids.join(', ')}; ${what} covers every grid`,
      {
        grids: principal.grids,
      },
    );
  }
}
