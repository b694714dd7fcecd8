import { Topics, buildEvent, type Stage, type StaffRole } from '@griddispatch/contracts';
import { enqueueOutbox, eventRecord, withTransaction, type OutboxRecord, type Pool } from '@griddispatch/db';
import { nextEscalation, type LadderStep, type TimerKind } from '../domain/ladder.ts';
import type { TimerContext } from './context.ts';
import { SCHEMA } from '../schema.ts';
import { insertTimers } from './schedule-plan.ts';

interface DueRow {
  id: string;
  work_order_id: string;
  stage: Stage;
  kind: TimerKind;
  level: number;
  due_at: Date;
  deadline: Date;
  grid_id: string;
  policy: string;
  notify: StaffRole[];
  escalation: LadderStep[] | null;
  calendar: string | null;
  traceparent: string | null;
  status: 'active' | 'stopped';
  satisfied: string[];
}

export interface FiredTimer {
  workOrderId: string;
  stage: Stage;
  kind: TimerKind;
  level: number;
  dueAt: Date;
  firedAt: Date;
  late: boolean;
}

export interface FireBatch {
  /** Timers claimed in this batch (fired or, if no longer wanted, cancelled). */
  claimed: number;
  fired: FiredTimer[];
  /** Due times of the escalation steps scheduled by the breaches that fired. */
  nextDues: Date[];
}

function eventFor(row: DueRow, now: Date, late: boolean): OutboxRecord {
  // What a warning and a breach both say: whose deadline, by which policy, and whether it fired late.
  const envelope = { source: 'sla-timer' as const, subject: row.work_order_id, time: now, traceparent: row.traceparent ?? undefined };
  const deadline = { workOrderId: row.work_order_id, gridId: row.grid_id, policy: row.policy, stage: row.stage, deadline: row.deadline.toISOString(), late };
  if (row.kind === 'warning') {
    const data = { ...deadline, remainingMs: row.deadline.getTime() - now.getTime() };
    return eventRecord(Topics.slaWarnings, row.work_order_id, buildEvent({ type: 'cn.griddispatch.sla.warning.v1', ...envelope, data }));
  }
  const data = { ...deadline, latenessMs: Math.max(0, now.getTime() - row.deadline.getTime()), level: row.level, notify: row.notify };
  return eventRecord(Topics.slaBreaches, row.work_order_id, buildEvent({ type: 'cn.griddispatch.sla.breached.v1', ...envelope, data }));
}

/**
 * Claims up to `batchSize` due timers and fires them in one transaction: each becomes `fired`, its
 * sla.warnings / sla.breaches record goes to the outbox, and a breach or escalation step schedules
 * the next step of the ladder. Timer rows and their work orders are claimed with
 * `FOR UPDATE SKIP LOCKED`, so replicas take disjoint batches and no timer fires twice; a work
 * order a consumer is changing right now is skipped and picked up by the next batch. A timer fired
 * more than `lateAfterMs` after it was due (downtime) is marked `late`; the event keeps the
 * original deadline.
 */
export async function fireDueTimers(pool: Pool, ctx: TimerContext, batchSize: number): Promise<FireBatch> {
  return withTransaction(pool, async (client) => {
    const now = ctx.now();
    const { rows } = await client.query<DueRow>(
      `SELECT t.id, t.work_order_id, t.stage, t.kind, t.level, t.due_at, t.deadline, t.grid_id, t.policy, t.notify,
              w.escalation, w.calendar, w.traceparent, w.status, w.satisfied
         FROM sla_timer.timers t
         JOIN sla_timer.work_orders w ON w.work_order_id = t.work_order_id
        WHERE t.state = 'pending' AND t.due_at <= $1
        ORDER BY t.due_at
        LIMIT $2
        FOR UPDATE OF t, w SKIP LOCKED`,
      [now, batchSize],
    );
    if (rows.length === 0) return { claimed: 0, fired: [], nextDues: [] };

    const fire: DueRow[] = [];
    const drop: string[] = [];
    for (const row of rows) {
      // Consumers cancel timers in the transaction that stops or satisfies; this only guards rows
      // written by hand or by an older version.
      if (row.status !== 'active' || row.satisfied.includes(row.stage)) drop.push(row.id);
      else fire.push(row);
    }
    if (drop.length > 0) await client.query(`UPDATE sla_timer.timers SET state = 'cancelled' WHERE id = ANY($1::bigint[])`, [drop]);

    const fired: FiredTimer[] = [];
    const records: OutboxRecord[] = [];
    const next: Parameters<typeof insertTimers>[1] = [];
    for (const row of fire) {
      const late = now.getTime() - row.due_at.getTime() > ctx.lateAfterMs;
      records.push(eventFor(row, now, late));
      fired.push({ workOrderId: row.work_order_id, stage: row.stage, kind: row.kind, level: row.level, dueAt: row.due_at, firedAt: now, late });
      if (row.kind !== 'warning' && row.escalation) {
        const step = nextEscalation(row.escalation, row.level, row.due_at, ctx.clockFor(row.calendar));
        if (step) {
          next.push({
            workOrderId: row.work_order_id,
            gridId: row.grid_id,
            policy: row.policy,
            spec: { stage: row.stage, kind: 'escalation', level: step.level, dueAt: step.dueAt, deadline: row.deadline, notify: step.notify },
          });
        }
      }
    }
    if (fire.length > 0) {
      await client.query(
        `UPDATE sla_timer.timers AS t SET state = 'fired', fired_at = $3, late = v.late
           FROM unnest($1::bigint[], $2::boolean[]) AS v(id, late)
          WHERE t.id = v.id`,
        [fire.map((r) => r.id), fired.map((f) => f.late), now],
      );
      await insertTimers(client, next);
      await enqueueOutbox(client, SCHEMA, records);
    }
    return { claimed: rows.length, fired, nextDues: next.map((n) => n.spec.dueAt) };
  });
}
