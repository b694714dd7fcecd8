import type { IncidentRole, SlaPlan } from '@griddispatch/contracts';
import type { PoolClient } from '@griddispatch/db';
import { escalationLadder, initialTimers, type LadderStep, type TimerSpec } from '../domain/ladder.ts';
import type { TimerContext } from './context.ts';
import { lockWorkOrder, lockWorkOrders, type WorkOrderRow } from './lock-work-order.ts';

export interface SchedulePlanInput {
  workOrderId: string;
  gridId: string;
  plan: SlaPlan;
  /** When the plan's windows opened (the request's receipt). */
  openedAt: Date;
  traceparent?: string | undefined;
  /** Its role in an incident (dispatch.assigned `role`); absent for a work order in none. */
  role?: IncidentRole | undefined;
}

export type SchedulePlanOutcome =
  | { status: 'scheduled'; timers: number; paused: boolean; dues: Date[] }
  | { status: 'already_planned' }
  | { status: 'stopped' }
  /** A merged call of an incident: recorded, no plan and no timers (the primary carries the clocks). */
  | { status: 'merged' };

type TimerRow = {
  workOrderId: string;
  spec: TimerSpec;
  gridId: string;
  policy: string;
  paused?: { remainingMs: number; deadlineRemainingMs: number | null } | undefined;
};

/** Inserts timer rows; the unique key makes a repeat a no-op. */
export async function insertTimers(client: PoolClient, rows: TimerRow[]): Promise<number> {
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
export async function schedulePlan(client: PoolClient, ctx: TimerContext, input: SchedulePlanInput, batch?: PlanBatch): Promise<SchedulePlanOutcome> {
  const now = ctx.now();
  const wo = batch?.workOrders.get(input.workOrderId) ?? (await lockWorkOrder(client, input.workOrderId, now));
  if (wo.planned_at !== null) return { status: 'already_planned' };
  if (input.role === 'merged') {
    // Stopped at once: nothing is ever scheduled for it, and retention removes it like a closed one.
    const merged: MergedRow = { workOrderId: input.workOrderId, gridId: input.gridId, at: now };
    Object.assign(wo, { planned_at: now, role: 'merged', status: 'stopped' });
    if (batch) batch.merged.push(merged);
    else await keepMerged(client, [merged]);
    return { status: 'merged' };
  }
  const ladder = escalationLadder(input.plan.escalation);
  const role = input.role ?? null;
  const plan: PlanRow = {
    workOrderId: input.workOrderId,
    gridId: input.gridId,
    plan: input.plan,
    ladder,
    traceparent: input.traceparent ?? null,
    role,
    at: now,
  };
  wo.planned_at = now;
  wo.role = role;
  if (batch) batch.plans.push(plan);
  else await keepPlans(client, [plan]);
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
  // A batch's timers are inserted at its end, where the unique key still makes a repeat a no-op.
  const inserted = batch ? (batch.timers.push(...rows), rows.length) : await insertTimers(client, rows);
  return { status: 'scheduled', timers: inserted, paused: pausedAt !== null, dues: pausedAt ? [] : specs.map((s) => s.dueAt) };
}

interface PlanRow {
  workOrderId: string;
  gridId: string;
  plan: SlaPlan;
  ladder: LadderStep[];
  traceparent: string | null;
  role: IncidentRole | null;
  at: Date;
}

interface MergedRow {
  workOrderId: string;
  gridId: string;
  at: Date;
}

/** What the plans of one consumed batch share: their work orders locked at once, their writes at its end. */
export interface PlanBatch {
  workOrders: Map<string, WorkOrderRow>;
  plans: PlanRow[];
  merged: MergedRow[];
  timers: TimerRow[];
}

export async function preparePlans(client: PoolClient, ctx: TimerContext, workOrderIds: string[]): Promise<PlanBatch> {
  return { workOrders: await lockWorkOrders(client, workOrderIds, ctx.now()), plans: [], merged: [], timers: [] };
}

/** The batch's plans (one UPDATE), merged work orders (one UPDATE) and timers (one INSERT). */
export async function finishPlans(client: PoolClient, batch: PlanBatch): Promise<void> {
  await keepPlans(client, batch.plans);
  await keepMerged(client, batch.merged);
  await insertTimers(client, batch.timers);
}

/** The plan is kept with the work order (escalation ladder, calendar, deadlines, trace). */
async function keepPlans(client: PoolClient, plans: PlanRow[]): Promise<void> {
  if (plans.length === 0) return;
  const col = <T>(pick: (p: PlanRow) => T) => plans.map(pick);
  await client.query(
    `UPDATE sla_timer.work_orders w
        SET grid_id = v.grid_id, policy = v.policy, calendar = v.calendar, escalation = v.escalation, warn_before_ms = v.warn_before_ms,
            deadlines = v.deadlines, traceparent = v.traceparent, role = v.role, planned_at = v.at, updated_at = v.at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::bigint[], $7::jsonb[], $8::text[], $9::timestamptz[], $10::text[])
         AS v(work_order_id, grid_id, policy, calendar, escalation, warn_before_ms, deadlines, traceparent, at, role)
      WHERE w.work_order_id = v.work_order_id`,
    [
      col((p) => p.workOrderId),
      col((p) => p.gridId),
      col((p) => p.plan.policy),
      col((p) => p.plan.calendar),
      col((p) => JSON.stringify(p.ladder)),
      col((p) => p.plan.warnBeforeMs),
      col((p) => JSON.stringify(p.plan.deadlines)),
      col((p) => p.traceparent),
      col((p) => p.at),
      col((p) => p.role),
    ],
  );
}

/** Merged work orders: their grid and role, stopped, no plan. */
async function keepMerged(client: PoolClient, rows: MergedRow[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(
    `UPDATE sla_timer.work_orders w
        SET grid_id = v.grid_id, role = 'merged', status = 'stopped', planned_at = v.at, updated_at = v.at
       FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS v(work_order_id, grid_id, at)
      WHERE w.work_order_id = v.work_order_id`,
    [rows.map((r) => r.workOrderId), rows.map((r) => r.gridId), rows.map((r) => r.at)],
  );
}
