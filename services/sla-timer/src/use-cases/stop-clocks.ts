import type { PoolClient } from '@griddispatch/db';

/** cancelled / closed: every clock of the work order stops for good. Returns timers cancelled. */
export async function stopClocks(client: PoolClient, workOrderId: string, now: Date): Promise<number> {
  await client.query(`UPDATE sla_timer.work_orders SET status = 'stopped', paused_at = NULL, updated_at = $2 WHERE work_order_id = $1`, [workOrderId, now]);
  const result = await client.query(
    `UPDATE sla_timer.timers SET state = 'cancelled', due_at = COALESCE(due_at, deadline)
      WHERE work_order_id = $1 AND state IN ('pending', 'paused')`,
    [workOrderId],
  );
  return result.rowCount ?? 0;
}
