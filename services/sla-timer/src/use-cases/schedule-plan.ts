import type { SlaPlan } from '@griddispatch/contracts';
import type { PoolClient } from '@griddispatch/db';
import { escalationLadder, initialTimers, type TimerSpec } from '../domain/ladder.ts';
import type { TimerContext } from './context.ts';
import { lockWorkOrder } from './lock-work-order.ts';

export interface SchedulePlanInput {
  workOrderId: string;
  gridId: string;
  plan: SlaPlan;
  /** When the plan's windows opened (the request's receipt). */
  openedAt: Date;
  traceparent?: string | undefined;
}

export type SchedulePlanOutcome =
  | { status: 'scheduled'; timers: number; paused: boolean; dues: Date[] }
  | { status: 'already_planned' }
  | { status: 'stopped' };

/** Inserts timer rows; the unique key makes a repeat a no-op. */
export async function insertTimers(
  client: PoolClient,
  rows: { workOrderId: string; spec: TimerSpec; gridId: string; policy: string; paused?: { remainingMs: number; deadlineRemainingMs: number | null } }[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await client.query(
    `INSERT INTO sla_timer.timers
       (work_order_id, stage, kind, level, due_at, deadline, state, remaining_ms, deadline_remaining_ms, grid_id, policy, notify)
     SELECT v.work_order_id, v.stage, v.kind, v.level, v.due_at, v.deadline, v.state, v.remaining_ms, v.deadline_remaining_ms,
            v.grid_id, v.policy, ARRAY(SELECT jsonb_array_elements_text(v.notify))
       FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::timestamptz[], $6::timestamptz[], $7::text[],
                   $8::bigint[], $9::bigint[], $10::text[], $11::text[], $12::jsonb[])
         AS v(work_order_id, stage, kind, level, due_at, deadline, state, remaining_ms, deadline_remaining_ms, grid_id, policy, notify)
     ON CONFLICT (work_order_id, stage, kind, level) DO NOTHING`,
    [
      rows.map((r) => r.workOrderId),
      rows.map((r) => r.spec.stage),
      rows.map((r) => r.spec.kind),
      rows.map((r) => r.spec.level),
      rows.map((r) => (r.paused ? null : r.spec.dueAt)),
      rows.map((r) => r.spec.deadline),
      rows.map((r) => (r.paused ? 'paused' : 'pending')),
      rows.map((r) => r.paused?.remainingMs ?? null),
      rows.map((r) => r.paused?.deadlineRemainingMs ?? null),
      rows.map((r) => r.gridId),
      rows.map((r) => r.policy),
      rows.map((r) => JSON.stringify(r.spec.notify)),
    ],
  );
  return result.rowCount ?? 0;
}

/**
 * dispatch.assigned → the plan's warning and breach timers. The plan is kept with the work order
 * (escalation ladder, calendar). Stages already satisfied — their event overtook the dispatch —
 * get no timers; a suspended work order gets paused ones; a cancelled or closed one gets none. A
 * second dispatch of the same work order keeps the clocks already running.
 */
export async function schedulePlan(client: PoolClient, ctx: TimerContext, input: SchedulePlanInput): Promise<SchedulePlanOutcome> {
  const now = ctx.now();
  const wo = await lockWorkOrder(client, input.workOrderId, now);
  if (wo.planned_at !== null) return { status: 'already_planned' };
  const ladder = escalationLadder(input.plan.escalation);
  await client.query(
    `UPDATE sla_timer.work_orders
        SET grid_id = $2, policy = $3, calendar = $4, escalation = $5, warn_before_ms = $6, deadlines = $7,
            traceparent = $8, planned_at = $9, updated_at = $9
      WHERE work_order_id = $1`,
    [
      input.workOrderId,
      input.gridId,
      input.plan.policy,
      input.plan.calendar,
      JSON.stringify(ladder),
      input.plan.warnBeforeMs,
      JSON.stringify(input.plan.deadlines),
      input.traceparent ?? null,
      now,
    ],
  );
  if (wo.status === 'stopped') return { status: 'stopped' };

  const clock = ctx.clockFor(input.plan.calendar);
  const specs = initialTimers(input.plan, ladder, input.openedAt, new Set(wo.satisfied), clock);
  const pausedAt = wo.paused_at;
  const rows = specs.map((spec) => ({
    workOrderId: input.workOrderId,
    spec,
    gridId: input.gridId,
    policy: input.plan.policy,
    paused: pausedAt
      ? {
          remainingMs: Math.max(0, clock.between(pausedAt, spec.dueAt)),
          deadlineRemainingMs: spec.deadline > pausedAt ? clock.between(pausedAt, spec.deadline) : null,
        }
      : undefined,
  }));
  const inserted = await insertTimers(client, rows);
  return { status: 'scheduled', timers: inserted, paused: pausedAt !== null, dues: pausedAt ? [] : specs.map((s) => s.dueAt) };
}
