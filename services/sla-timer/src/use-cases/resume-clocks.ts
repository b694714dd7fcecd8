import type { PoolClient } from '@griddispatch/db';
import type { TimerContext } from './context.ts';
import type { WorkOrderRow } from './lock-work-order.ts';

/**
 * resumed: the paused clocks run again with the time they had left, counted from `at` (working
 * time under the plan's calendar, so a window paused at 17:00 on Friday goes on on Monday). Not
 * suspended: nothing to do. Returns the new due times.
 */
export async function resumeClocks(client: PoolClient, ctx: TimerContext, wo: WorkOrderRow, at: Date): Promise<Date[]> {
  if (wo.status !== 'active' || wo.paused_at === null) return [];
  const from = at > wo.paused_at ? at : wo.paused_at;
  await client.query(`UPDATE sla_timer.work_orders SET paused_at = NULL, updated_at = $2 WHERE work_order_id = $1`, [wo.work_order_id, ctx.now()]);
  const { rows } = await client.query<{ id: string; remaining_ms: string; deadline_remaining_ms: string | null; deadline: Date }>(
    `SELECT id, remaining_ms, deadline_remaining_ms, deadline FROM sla_timer.timers
      WHERE work_order_id = $1 AND state = 'paused' FOR UPDATE`,
    [wo.work_order_id],
  );
  if (rows.length === 0) return [];
  const clock = ctx.clockFor(wo.calendar);
  const dues = rows.map((r) => clock.add(from, Number(r.remaining_ms)));
  await client.query(
    `UPDATE sla_timer.timers AS t
        SET state = 'pending', due_at = v.due_at, deadline = v.deadline, remaining_ms = NULL, deadline_remaining_ms = NULL
       FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[]) AS v(id, due_at, deadline)
      WHERE t.id = v.id`,
    [rows.map((r) => r.id), dues, rows.map((r) => (r.deadline_remaining_ms === null ? r.deadline : clock.add(from, Number(r.deadline_remaining_ms))))],
  );
  return dues;
}
