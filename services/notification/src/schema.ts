import { boolean, integer, jsonb, pgSchema, primaryKey, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import type { Assignee, Contact, SubscriptionEventName } from '@griddispatch/contracts';
import type { ChannelName, DeliveryPayload, SendOutcome } from './channels/types.ts';

// Drizzle mirror of migrations/*.sql (the SQL files are the source of truth for DDL).
export const SCHEMA = 'notification';
export const notification = pgSchema(SCHEMA);

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export type SubscriptionStatus = 'active' | 'disabled';
/** `logged`: written to the log instead of sent (no SMS vendor configured) — finished, never `delivered`. */
export type DeliveryStatus = 'pending' | 'delivered' | 'logged' | 'failed' | 'dead';
export const DELIVERY_STATUSES = ['pending', 'delivered', 'logged', 'failed', 'dead'] as const satisfies readonly DeliveryStatus[];
export const ATTEMPT_OUTCOMES = ['delivered', 'logged', 'retry', 'disabled', 'permanent', 'gone'] as const satisfies readonly SendOutcome['kind'][];

export const subscriptions = notification.table('subscriptions', {
  id: uuid('id').primaryKey(),
  url: text('url').notNull(),
  events: text('events').array().$type<SubscriptionEventName[]>().notNull(),
  gridIds: text('grid_ids').array(),
  secret: text('secret').notNull(),
  status: text('status').$type<SubscriptionStatus>().notNull(),
  disabledReason: text('disabled_reason'),
  createdBy: text('created_by'),
  createdAt: ts('created_at').notNull(),
  updatedAt: ts('updated_at').notNull(),
  piiRead: boolean('pii_read').notNull(),
  failingSince: ts('failing_since'),
});

export const settings = notification.table('settings', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
});

export const workOrderContacts = notification.table('work_order_contacts', {
  workOrderId: text('work_order_id').primaryKey(),
  gridId: text('grid_id').notNull(),
  gridName: text('grid_name').notNull(),
  areaId: text('area_id'),
  districtCode: text('district_code'),
  category: text('category').notNull(),
  customerClasses: text('customer_classes').array().notNull(),
  assignees: jsonb('assignees').$type<Assignee[]>().notNull(),
  contacts: jsonb('contacts').$type<Contact[]>().notNull(),
  wecomRobotUrl: text('wecom_robot_url'),
  sourceEventId: text('source_event_id').notNull(),
  updatedAt: ts('updated_at').notNull(),
  incidentId: text('incident_id'),
});

export const incidentNotices = notification.table(
  'incident_notices',
  {
    incidentId: text('incident_id').notNull(),
    notice: text('notice').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.incidentId, t.notice] })],
);

export const deliveries = notification.table(
  'deliveries',
  {
    id: uuid('id').primaryKey(),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    workOrderId: text('work_order_id'),
    channel: text('channel').$type<ChannelName>().notNull(),
    recipient: text('recipient').notNull(),
    subscriptionId: uuid('subscription_id'),
    payload: jsonb('payload').$type<DeliveryPayload>().notNull(),
    status: text('status').$type<DeliveryStatus>().notNull(),
    attempts: integer('attempts').notNull(),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    latencyMs: integer('latency_ms'),
    nextAttemptAt: ts('next_attempt_at'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
    deliveredAt: ts('delivered_at'),
  },
  (t) => [unique('deliveries_once').on(t.eventId, t.channel, t.recipient)],
);

export const deliveryAttempts = notification.table(
  'delivery_attempts',
  {
    deliveryId: uuid('delivery_id').notNull(),
    attempt: integer('attempt').notNull(),
    startedAt: ts('started_at').notNull(),
    outcome: text('outcome').$type<SendOutcome['kind']>().notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
    latencyMs: integer('latency_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.deliveryId, t.attempt] })],
);

export type SubscriptionRow = typeof subscriptions.$inferSelect;
export type WorkOrderContactsRow = typeof workOrderContacts.$inferSelect;
export type DeliveryRow = typeof deliveries.$inferSelect;
export type DeliveryAttemptRow = typeof deliveryAttempts.$inferSelect;
