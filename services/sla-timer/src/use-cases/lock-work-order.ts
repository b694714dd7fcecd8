import type { PoolClient } from '@griddispatch/db';
import type { LadderStep } from '../domain/ladder.ts';

export interface WorkOrderRow {
  work_order_id: string;
  grid_id: string | null;
  policy: string | null;
  calendar: string | null;
  escalation: LadderStep[] | null;
  status: 'active' | 'stopped';
  satisfied: string[];
  paused_at: Date | null;
  planned_at: Date | null;
  /** Its role in an incident, from its dispatch: `merged` ones have no clocks and follow none of their events. */
  role: 'primary' | 'merged' | null;
}

/**
 * The work order's row, created empty if this is the first we hear of it, and locked until the
 * transaction ends. Everything that changes a work order's timers — consumers and the scheduler —
 * locks this row first, so a stage satisfied while its breach fires cannot leave the next
 * escalation step behind.
 */
export async function lockWorkOrder(client: PoolClient, workOrderId: string, now: Date): Promise<WorkOrderRow> {
  const { rows } = await client.query<WorkOrderRow>(
    `INSERT INTO sla_timer.work_orders (work_order_id, created_at, updated_at) VALUES ($1, $2, $2)
     ON CONFLICT (work_order_id) DO UPDATE SET updated_at = EXCLUDED.updated_at
     RETURNING work_order_id, grid_id, policy, calendar, escalation, status, satisfied, paused_at, planned_at, role`,
    [workOrderId, now],
  );
  return rows[0]!;
}

/** `lockWorkOrder` for a batch, in one statement: the rows of `workOrderIds`, locked in id order. */
export async function lockWorkOrders(client: PoolClient, workOrderIds: string[], now: Date): Promise<Map<string, WorkOrderRow>> {
  const ids = [...new Set(workOrderIds)].sort();
  const { rows } = await client.query<WorkOrderRow>(
    `INSERT INTO sla_timer.work_orders (work_order_id, created_at, updated_at) SELECT id, $2, $2 FROM unnest($1::text[]) AS id
     ON CONFLICT (work_order_id) DO UPDATE SET updated_at = EXCLUDED.updated_at
     RETURNING work_order_id, grid_id, policy, calendar, escalation, status, satisfied, paused_at, planned_at, role`,
    [ids, now],
  );
  return new Map(rows.map((row) => [row.work_order_id, row]));
}
