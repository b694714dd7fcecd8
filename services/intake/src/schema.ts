import { bigserial, boolean, integer, jsonb, pgSchema, smallint, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { Incident } from '@griddispatch/contracts';
import type { Assignee, Breach, Location, Customer, Stage } from './domain/types.ts';

// Drizzle mirror of migrations/*.sql (the SQL files are the source of truth for DDL).
export const SCHEMA = 'intake';
export const intake = pgSchema(SCHEMA);

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const requests = intake.table('requests', {
  id: uuid('id').primaryKey(),
  source: text('source').notNull(),
  externalId: text('external_id').notNull(),
  bodyHash: text('body_hash').notNull(),
  channel: text('channel').notNull(),
  receivedBy: text('received_by').notNull(),
  category: text('category').notNull(),
  urgency: text('urgency').notNull(),
  description: text('description'),
  reportedAt: ts('reported_at'),
  receivedAt: ts('received_at').notNull(),
  customer: jsonb('customer').$type<Customer>(),
  location: jsonb('location').$type<Location>().notNull(),
  status: text('status').notNull(),
  resumeStatus: text('resume_status'),
  grid: jsonb('grid').$type<{ id: string; name: string; kind: 'area' | 'feeder' | 'district' }>(),
  gridId: text('grid_id'),
  incidentId: text('incident_id'),
  /** `primary` | `merged` in its incident (from dispatch.assigned); null in none. */
  incidentRole: text('incident_role').$type<'primary' | 'merged'>(),
  /** The incident's current ETR once heard (incidents.events), else dispatch.assigned's. */
  etr: ts('etr'),
  assignees: jsonb('assignees').$type<Assignee[]>().notNull(),
  sla: jsonb('sla').$type<{ policy: string; deadlines: Record<string, string> }>(),
  breaches: jsonb('breaches').$type<(Breach & { policy?: string })[]>().notNull(),
  breached: boolean('breached').notNull(),
  warnings: jsonb('warnings').$type<{ stage: Stage; deadline: string }[]>().notNull(),
  updatedAt: ts('updated_at').notNull(),
});

export const timeline = intake.table('timeline', {
  seq: bigserial('seq', { mode: 'number' }).primaryKey(),
  requestId: uuid('request_id').notNull(),
  at: ts('at').notNull(),
  type: text('type').notNull(),
  by: text('by'),
  note: text('note'),
  eventId: text('event_id').notNull(),
});

export type RequestRow = typeof requests.$inferSelect;
export type TimelineRow = typeof timeline.$inferSelect;

/** intake's copy of each incident (incidents.events), latest snapshot only. */
export const incidents = intake.table('incidents', {
  id: text('id').primaryKey(),
  status: text('status').notNull(),
  statusRank: smallint('status_rank').notNull(),
  gridId: text('grid_id').notNull(),
  feederCode: text('feeder_code'),
  parentId: text('parent_id'),
  callCount: integer('call_count').notNull(),
  openedAt: ts('opened_at').notNull(),
  etr: ts('etr').notNull(),
  updatedAt: ts('updated_at').notNull(),
  data: jsonb('data').$type<Incident>().notNull(),
});

export type IncidentRow = typeof incidents.$inferSelect;
