import type { PoolClient } from 'pg';
import type { SubscriptionEventName } from '@griddispatch/contracts';
import { SCHEMA } from '../schema.ts';
import type { GridRecord } from './remember-grid.ts';
import { workOrderRecord, type WorkOrderContactsJson, type WorkOrderRecord } from './remember-work-order.ts';

/**
 * Active subscriptions to `event` whose grid filter admits one of `gridIds` (a work order's grid
 * and its area grid). Subscriptions without a filter get every event; an event without a grid
 * (unroutable) reaches only those.
 */
export async function findSubscribers(client: PoolClient, event: SubscriptionEventName, gridIds: (string | null | undefined)[]): Promise<string[]> {
  const [subscribers] = await findSubscribersOfEach(client, event, [gridIds]);
  return subscribers ?? [];
}

/**
 * `findSubscribers` for several grid sets at once (a batch's events), in one statement: the
 * subscribers of each set, in the order of `gridSets`.
 */
export async function findSubscribersOfEach(
  client: PoolClient,
  event: SubscriptionEventName,
  gridSets: readonly (readonly (string | null | undefined)[])[],
): Promise<string[][]> {
  if (gridSets.length === 0) return [];
  const pairs = gridSets.flatMap((set, i) => set.filter((g): g is string => typeof g === 'string' && g.length > 0).map((grid) => ({ n: i + 1, grid })));
  const { rows } = await client.query<{ n: number; subscribers: string[] }>(
    `SELECT k.n,
            ARRAY(SELECT s.id::text FROM ${SCHEMA}.subscriptions s
                   WHERE s.status = 'active' AND s.events @> ARRAY[$1]::text[]
                     AND (s.grid_ids IS NULL OR s.grid_ids && ARRAY(SELECT g.grid FROM unnest($2::int[], $3::text[]) AS g(n, grid) WHERE g.n = k.n))
                   ORDER BY s.created_at, s.id) AS subscribers
       FROM generate_series(1, $4::int) AS k(n)`,
    [event, pairs.map((p) => p.n), pairs.map((p) => p.grid), gridSets.length],
  );
  const out: string[][] = gridSets.map(() => []);
  for (const r of rows) out[r.n - 1] = r.subscribers;
  return out;
}

/**
 * For events about a known work order: its stored copy and the subscribers to `event` for its
 * grid (and the area grid the copy names), in one round trip.
 */
export async function findWorkOrderAndSubscribers(
  client: PoolClient,
  workOrderId: string,
  event: SubscriptionEventName,
  gridId: string | null | undefined,
): Promise<{ workOrder: WorkOrderRecord | null; subscribers: string[] }> {
  const [found] = await findWorkOrdersAndSubscribers(client, event, [{ workOrderId, gridId }]);
  return found ?? { workOrder: null, subscribers: [] };
}

/** A work-order event's look-up: its work order, and the grid it names. */
export interface WorkOrderQuery {
  workOrderId: string;
  gridId: string | null | undefined;
}

/**
 * `findWorkOrderAndSubscribers` for a batch's events, in one statement: per query, in the order
 * given, the stored work order and the subscribers to `event` for the query's grid or the work
 * order's area grid.
 */
export async function findWorkOrdersAndSubscribers(
  client: PoolClient,
  event: SubscriptionEventName,
  queries: readonly WorkOrderQuery[],
): Promise<{ workOrder: WorkOrderRecord | null; subscribers: string[] }[]> {
  if (queries.length === 0) return [];
  const { rows } = await client.query<{ n: number; work_order: WorkOrderContactsJson | null; subscribers: string[] }>(
    `SELECT q.n::int AS n, CASE WHEN wo.work_order_id IS NULL THEN NULL ELSE to_jsonb(wo) END AS work_order,
            ARRAY(SELECT s.id::text FROM ${SCHEMA}.subscriptions s
                   WHERE s.status = 'active' AND s.events @> ARRAY[$1]::text[]
                     AND (s.grid_ids IS NULL OR s.grid_ids && array_remove(ARRAY[NULLIF(q.grid_id, ''), wo.area_id], NULL))
                   ORDER BY s.created_at, s.id) AS subscribers
       FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS q(work_order_id, grid_id, n)
       LEFT JOIN ${SCHEMA}.work_order_contacts wo ON wo.work_order_id = q.work_order_id`,
    [event, queries.map((q) => q.workOrderId), queries.map((q) => q.gridId ?? null)],
  );
  const out = queries.map(() => ({ workOrder: null as WorkOrderRecord | null, subscribers: [] as string[] }));
  for (const r of rows) out[r.n - 1] = { workOrder: r.work_order ? workOrderRecord(r.work_order) : null, subscribers: r.subscribers };
  return out;
}

/** An incident event's look-up: its grid and the subscription event it is. */
export interface GridQuery {
  gridId: string;
  event: SubscriptionEventName;
}

/**
 * For a batch of incident events, in one statement, per query in the order given: the people of
 * its grid — the grid's own row in `grid_contacts`, else the latest row of a grid under it (an
 * area grid's crew and station head are among the contacts of each of its district grids), null
 * while no primary dispatch of it or below it was seen — and the subscribers to the query's event
 * for the grid or, when its own row names one, its area grid.
 */
export async function findGridsAndSubscribers(
  client: PoolClient,
  queries: readonly GridQuery[],
): Promise<{ grid: GridRecord | null; subscribers: string[] }[]> {
  if (queries.length === 0) return [];
  const { rows } = await client.query<{
    n: number;
    grid: { grid_id: string; area_id: string | null; contacts: GridRecord['contacts'] } | null;
    subscribers: string[];
  }>(
    `SELECT q.n::int AS n, CASE WHEN g.grid_id IS NULL THEN NULL ELSE to_jsonb(g) END AS grid,
            ARRAY(SELECT s.id::text FROM ${SCHEMA}.subscriptions s
                   WHERE s.status = 'active' AND s.events @> ARRAY[q.event]::text[]
                     AND (s.grid_ids IS NULL OR s.grid_ids && (ARRAY[q.grid_id]::text[] || ARRAY(SELECT g.area_id WHERE g.grid_id = q.grid_id AND g.area_id IS NOT NULL)))
                   ORDER BY s.created_at, s.id) AS subscribers
       FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q(grid_id, event, n)
       LEFT JOIN LATERAL (SELECT grid_id, area_id, contacts FROM ${SCHEMA}.grid_contacts
                           WHERE grid_id = q.grid_id OR area_id = q.grid_id ORDER BY (grid_id = q.grid_id) DESC, updated_at DESC LIMIT 1) g ON true`,
    [queries.map((q) => q.gridId), queries.map((q) => q.event)],
  );
  const out = queries.map(() => ({ grid: null as GridRecord | null, subscribers: [] as string[] }));
  for (const r of rows) {
    const g = r.grid;
    out[r.n - 1] = { grid: g ? { gridId: g.grid_id, areaId: g.area_id, contacts: g.contacts } : null, subscribers: r.subscribers };
  }
  return out;
}
