import { bigint, bigserial, boolean, index, jsonb, pgSchema, smallint, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import type { Stage, StaffRole } from '@griddispatch/contracts';
import type { LadderStep, TimerKind } from './domain/ladder.ts';

// Drizzle mirror of migrations/*.sql (the SQL files are the source of truth for DDL). The hot
// paths (claiming with SKIP LOCKED, batch updates with unnest) are plain SQL in the use cases;
// tests and tools read the tables through these definitions.
export const SCHEMA = 'sla_timer';
export const slaTimer = pgSchema(SCHEMA);

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export type TimerState = 'pending' | 'fired' | 'cancelled' | 'paused';

export const workOrders = slaTimer.table('work_orders', {
  workOrderId: text('work_order_id').primaryKey(),
  gridId: text('grid_id'),
  policy: text('policy'),
  calendar: text('calendar'),
  escalation: jsonb('escalation').$type<LadderStep[]>(),
  warnBeforeMs: bigint('warn_before_ms', { mode: 'number' }),
  deadlines: jsonb('deadlines').$type<Partial<Record<Stage, string>>>(),
  traceparent: text('traceparent'),
  plannedAt: ts('planned_at'),
  status: text('status').$type<'active' | 'stopped'>().notNull(),
  satisfied: text('satisfied').array().$type<Stage[]>().notNull(),
  pausedAt: ts('paused_at'),
  role: text('role').$type<'primary' | 'merged'>(),
  createdAt: ts('created_at').notNull(),
  updatedAt: ts('updated_at').notNull(),
});

export const timers = slaTimer.table(
  'timers',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    workOrderId: text('work_order_id')
      .notNull()
      .references(() => workOrders.workOrderId),
    stage: text('stage').$type<Stage>().notNull(),
    kind: text('kind').$type<TimerKind>().notNull(),
    level: smallint('level').notNull(),
    dueAt: ts('due_at'),
    deadline: ts('deadline').notNull(),
    state: text('state').$type<TimerState>().notNull(),
    remainingMs: bigint('remaining_ms', { mode: 'number' }),
    deadlineRemainingMs: bigint('deadline_remaining_ms', { mode: 'number' }),
    gridId: text('grid_id').notNull(),
    policy: text('policy').notNull(),
    notify: text('notify').array().$type<StaffRole[]>().notNull(),
    firedAt: ts('fired_at'),
    late: boolean('late'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    unique().on(t.workOrderId, t.stage, t.kind, t.level),
    index('timers_pending_due')
      .on(t.dueAt)
      .where(sql`state = 'pending'`),
  ],
);
