import type { PoolClient } from 'pg';
import type { SubscriptionEventName } from '@griddispatch/contracts';
import { SCHEMA } from '../schema.ts';
import { workOrderRecord, type WorkOrderContactsJson, type WorkOrderRecord } from './remember-work-order.ts';

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

/**
 * For events about a known work order: its stored copy and the subscribers to `event` for its
 * grid (and the area grid the copy names), in one round trip.
 */
export async function findWorkOrderAndSubscribers(
  client: PoolClient,
  workOrderId: string,
  event: SubscriptionEventName,
  gridIds: (string | null | undefined)[],
): Promise<{ workOrder: WorkOrderRecord | null; subscribers: string[] }> {
  const grids = gridIds.filter((g): g is string => typeof g === 'string' && g.length > 0);
  const { rows } = await client.query<{ work_order: WorkOrderContactsJson | null; subscribers: string[] }>(
    `WITH wo AS (SELECT * FROM ${SCHEMA}.work_order_contacts WHERE work_order_id = $1)
     SELECT (SELECT to_jsonb(wo) FROM wo) AS work_order,
            ARRAY(SELECT s.id::text FROM ${SCHEMA}.subscriptions s
                   WHERE s.status = 'active' AND s.events @> ARRAY[$2]::text[]
                     AND (s.grid_ids IS NULL OR s.grid_ids && ($3::text[] || ARRAY(SELECT area_id FROM wo WHERE area_id IS NOT NULL)))
                   ORDER BY s.created_at, s.id) AS subscribers`,
    [workOrderId, event, grids],
  );
  const row = rows[0];
  return { workOrder: row?.work_order ? workOrderRecord(row.work_order) : null, subscribers: row?.subscribers ?? [] };
}
