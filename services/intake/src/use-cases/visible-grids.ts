import type { Pool } from 'pg';
import { HttpError, type Principal } from '@griddispatch/http';

/**
 * The grids a caller may see: null for a key without allowed grids (every grid); otherwise the
 * key's grids and the grids intake has seen dispatched under them (grid_areas), so a key holding
 * an area grid sees its district grids' work orders. Work orders not yet routed (no grid) are
 * outside every such set.
 */
export async function visibleGrids(pool: Pool, principal: Principal): Promise<ReadonlySet<string> | null> {
  if (principal.grids === null) return null;
  const { rows } = await pool.query<{ grid_id: string }>('SELECT grid_id FROM intake.grid_areas WHERE area_id = ANY($1::text[])', [principal.grids]);
  return new Set([...principal.grids, ...rows.map((r) => r.grid_id)]);
}

/**
 * The grid filter of a read: the grids asked for, which must lie inside what the caller may see
 * (403 grid_not_allowed otherwise); none asked: what it may see (undefined: every grid).
 */
export function gridFilter(visible: ReadonlySet<string> | null, asked: readonly string[] | undefined, keyName: string): string[] | undefined {
  if (!visible) return asked ? [...asked] : undefined;
  if (!asked) return [...visible];
  const outside = asked.filter((g) => !visible.has(g));
  if (outside.length > 0) {
    throw new HttpError(403, 'grid_not_allowed', `API key "${keyName}" may not see grid${outside.length > 1 ? 's' : ''} ${outside.join(', ')}`, {
      grids: outside,
    });
  }
  return [...asked];
}

/** Whether a key may act on this work order: any key without grids; else only one routed to a grid it may see. */
export async function mayTouchWorkOrder(pool: Pool, principal: Principal, id: string): Promise<boolean> {
  const visible = await visibleGrids(pool, principal);
  if (!visible) return true;
  const { rows } = await pool.query<{ grid_id: string | null }>('SELECT grid_id FROM intake.requests WHERE id = $1', [id]);
  const gridId = rows[0]?.grid_id;
  return gridId !== undefined && gridId !== null && visible.has(gridId);
}
