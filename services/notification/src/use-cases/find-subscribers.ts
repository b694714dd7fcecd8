import type { PoolClient } from 'pg';
import type { SubscriptionEventName } from '@griddispatch/contracts';
import { SCHEMA } from '../schema.ts';

/**
 * Active subscriptions to `event` whose grid filter admits one of `gridIds` (a work order's grid
 * and its area grid). Subscriptions without a filter get every event; an event without a grid
 * (unroutable) reaches only those.
 */
export async function findSubscribers(client: PoolClient, event: SubscriptionEventName, gridIds: (string | null | undefined)[]): Promise<string[]> {
  const grids = gridIds.filter((g): g is string => typeof g === 'string' && g.length > 0);
  const { rows } = await client.query<{ id: string }>(
    `SELECT id FROM ${SCHEMA}.subscriptions
      WHERE status = 'active' AND events @> ARRAY[$1]::text[]
        AND (grid_ids IS NULL OR grid_ids && $2::text[])
      ORDER BY created_at, id`,
    [event, grids],
  );
  return rows.map((r) => r.id);
}
