import type { PoolClient } from '@griddispatch/db';
import type { TimerContext } from './context.ts';
import type { WorkOrderRow } from './lock-work-order.ts';

/**
 * suspended: every running clock of the work order stops, keeping the time it had left — working
 * time under the plan's calendar — until `resumed`. Already suspended, stopped: nothing to do.
 * Returns the number of timers paused.
 */
export async function pauseClocks(client: PoolClient, ctx: TimerContext, wo: WorkOrderRow, at: Date): Promise<number> {
  if (wo.status !== 'active' || wo.paused_at !== null) return 0;
  await client.query(`UPDATE sla_timer.work_orders SET paused_at = $2, updated_at = $3 WHERE work_order_id = $1`, [wo.work_order_id, at, ctx.now()]);
  const { rows } = await client.query<{ id: string; due_at: Date; deadline: Date }>(
    `SELECT id, due_at, deadline FROM sla_timer.timers WHERE work_order_id = $1 AND state = 'pending' FOR UPDATE`,
    [wo.work_order_id],
  );
  if (rows.length === 0) return 0;
  const clock = ctx.clockFor(wo.calendar);
  await client.query(
    `UPDATE sla_timer.timers AS t
        SET state = 'paused', due_at = NULL, remaining_ms = v.remaining_ms, deadline_remaining_ms = v.deadline_remaining_ms
       FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS v(id, remaining_ms, deadline_remaining_ms)
      WHERE t.id = v.id`,
    [
      rows.map((r) => r.id),
      rows.map((r) => Math.max(0, clock.between(at, r.due_at))),
      // A deadline already passed (escalation after a breach) stays where it was.
      rows.map((r) => (r.deadline > at ? clock.between(at, r.deadline) : null)),
    ],
  );
  return rows.length;
}
