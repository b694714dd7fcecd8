import type { Stage } from '@griddispatch/contracts';
import type { PoolClient } from '@griddispatch/db';

/**
 * Marks stages satisfied and cancels their pending or paused timers: warnings, the breach and any
 * escalation step not yet fired. Recorded on the work order too, for a plan that arrives later.
 * Returns the number of timers cancelled.
 */
export async function satisfyStages(client: PoolClient, workOrderId: string, stages: readonly Stage[], now: Date): Promise<number> {
  if (stages.length === 0) return 0;
  await client.query(
    `UPDATE sla_timer.work_orders
        SET satisfied = ARRAY(SELECT DISTINCT s FROM unnest(satisfied || $2::text[]) AS s ORDER BY s), updated_at = $3
      WHERE work_order_id = $1`,
    [workOrderId, stages, now],
  );
  const result = await client.query(
    `UPDATE sla_timer.timers SET state = 'cancelled', due_at = COALESCE(due_at, deadline)
      WHERE work_order_id = $1 AND stage = ANY($2::text[]) AND state IN ('pending', 'paused')`,
    [workOrderId, stages],
  );
  return result.rowCount ?? 0;
}
