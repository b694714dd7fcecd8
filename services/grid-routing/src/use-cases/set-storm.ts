import type { Pool } from 'pg';
import { z } from 'zod';
import { IsoDateTime, type StormBody } from '@griddispatch/contracts';
import { enqueueOutbox, withTransaction, type OutboxRecord } from '@griddispatch/db';
import { SCHEMA } from '../schema.ts';
import { IncidentBook } from './incident-book.ts';
import { STORM_LOCK } from './incident-store.ts';
import { OPEN_SQL } from './incident-row.ts';
import type { RoutingContext } from './routing-context.ts';

/** One row of storm mode: a grid, or `*` for every grid without a row of its own. */
export const StormEntry = z.object({ gridId: z.string(), active: z.boolean(), factor: z.number(), updatedAt: IsoDateTime });
export type StormEntry = z.infer<typeof StormEntry>;

export async function getStorm(pool: Pick<Pool, 'query'>): Promise<StormEntry[]> {
  const { rows } = await pool.query<{ grid_id: string; active: boolean; factor: number; updated_at: Date }>(
    'SELECT grid_id, active, factor, updated_at FROM routing.storm_mode ORDER BY grid_id',
  );
  return rows.map((r) => ({ gridId: r.grid_id, active: r.active, factor: r.factor, updatedAt: r.updated_at.toISOString() }));
}

/** Whether storm mode covers the grid (its own row, else the all-grids row). */
export async function inStormMode(client: Pick<Pool, 'query'>, gridId: string): Promise<boolean> {
  const { rows } = await client.query<{ active: boolean }>("SELECT active FROM routing.storm_mode WHERE grid_id IN ($1, '*') ORDER BY grid_id = '*' LIMIT 1", [
    gridId,
  ]);
  return rows[0]?.active ?? false;
}

export type SetStormOutcome = { status: 'unknown_grids'; gridIds: string[] } | { status: 'set'; storm: StormEntry[]; rescaled: number };

/**
 * `PUT /v1/storm`: storm mode on or off for some grids or all ("all" replaces every grid's own
 * row). The policy ETRs of the open incidents in those grids are rescaled to opening + restore
 * window × the factor now in force (1 when off); manual and planned ETRs stay. incident.updated
 * (change `etr`) for each ETR that moved.
 */
export async function setStorm(ctx: RoutingContext, pool: Pool, body: StormBody): Promise<SetStormOutcome> {
  return withTransaction(pool, async (client) => {
    const data = await ctx.data.current(client);
    if (body.gridIds !== 'all') {
      const unknown = body.gridIds.filter((g) => !data.directory.grids.has(g));
      if (unknown.length > 0) return { status: 'unknown_grids', gridIds: unknown };
    }
    // Before any feeder lock, as routing takes it (shared): no deadlock, no incident opened with the old factor after this commits.
    await client.query(`SELECT pg_advisory_xact_lock(${STORM_LOCK})`);
    const factor = body.factor ?? ctx.config.stormFactor;
    const grids = body.gridIds === 'all' ? ['*'] : [...new Set(body.gridIds)];
    if (body.gridIds === 'all') await client.query('DELETE FROM routing.storm_mode');
    await client.query(
      `INSERT INTO routing.storm_mode (grid_id, active, factor, updated_at) SELECT g, $2, $3, now() FROM unnest($1::text[]) AS g
       ON CONFLICT (grid_id) DO UPDATE SET active = EXCLUDED.active, factor = EXCLUDED.factor, updated_at = now()`,
      [grids, body.active, factor],
    );
    const { rows } = await client.query<{ id: string }>(
      `SELECT id FROM routing.incidents WHERE ${OPEN_SQL} AND etr_source = 'policy' AND etr_base_ms IS NOT NULL AND ($1::boolean OR grid_id = ANY($2::text[]))`,
      [body.gridIds === 'all', grids],
    );
    const book = new IncidentBook(ctx, data);
    if (rows.length > 0)
      await book.loadById(
        client,
        rows.map((r) => r.id),
      );
    await book.loadStorm(client);
    for (const { id } of rows) {
      const row = book.get(id);
      if (row) book.rescaleEtr(row);
    }
    const outbox: OutboxRecord[] = [];
    await book.flush(client, outbox);
    await enqueueOutbox(client, SCHEMA, outbox);
    return { status: 'set', storm: await getStorm(client), rescaled: outbox.length };
  });
}
