import { bigint, bigserial, boolean, date, doublePrecision, integer, jsonb, pgSchema, primaryKey, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import type { AreaType, GridKind, RequestReceivedV1, StaffRole, Urgency } from '@griddispatch/contracts';
import type { GridGeometry } from '@griddispatch/grid';

// Drizzle mirror of migrations/*.sql (the SQL files are the source of truth for DDL). The
// in-memory routing data is loaded through these definitions; the hot path (one decision per
// request) and the bulk upserts of an import are plain SQL in the use cases.
export const SCHEMA = 'routing';
export const routing = pgSchema(SCHEMA);

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const grids = routing.table('grids', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  kind: text('kind').$type<GridKind>().notNull(),
  parentId: text('parent_id'),
  areaType: text('area_type').$type<AreaType>().notNull(),
  communityCode: text('community_code'),
  polygon: jsonb('polygon').$type<GridGeometry>(),
  wecomRobotUrl: text('wecom_robot_url'),
  updatedAt: ts('updated_at').notNull(),
});

export const feeders = routing.table('feeders', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  areaGridId: text('area_grid_id'),
  updatedAt: ts('updated_at').notNull(),
});

export const districts = routing.table('districts', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  feederCode: text('feeder_code'),
  gridId: text('grid_id').notNull(),
  lon: doublePrecision('lon'),
  lat: doublePrecision('lat'),
  updatedAt: ts('updated_at').notNull(),
});

export const communities = routing.table('communities', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  gridId: text('grid_id').notNull(),
  updatedAt: ts('updated_at').notNull(),
});

export const customers = routing.table('customers', {
  accountNo: text('account_no').primaryKey(),
  districtCode: text('district_code').notNull(),
  classes: text('classes').array().notNull(),
  name: text('name'),
  phone: text('phone'),
  updatedAt: ts('updated_at').notNull(),
});

export const staff = routing.table('staff', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  phone: text('phone'),
  wecomUserId: text('wecom_user_id'),
  updatedAt: ts('updated_at').notNull(),
});

export const gridStaff = routing.table(
  'grid_staff',
  {
    gridId: text('grid_id').notNull(),
    staffId: text('staff_id').notNull(),
    role: text('role').$type<StaffRole>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.gridId, t.staffId, t.role] })],
);

export const rosters = routing.table('rosters', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  staffId: text('staff_id').notNull(),
  days: smallint('days').array().notNull(),
  startTime: text('start_time').notNull(),
  endTime: text('end_time').notNull(),
  validFrom: date('valid_from', { mode: 'string' }),
  validTo: date('valid_to', { mode: 'string' }),
});

export const incidents = routing.table('incidents', {
  id: text('id').primaryKey(),
  districtCode: text('district_code').notNull(),
  gridId: text('grid_id').notNull(),
  openedAt: ts('opened_at').notNull(),
  lastCallAt: ts('last_call_at').notNull(),
  callCount: integer('call_count').notNull(),
  urgency: text('urgency').$type<Urgency>().notNull(),
});

export const routedRequests = routing.table('routed_requests', {
  requestId: text('request_id').primaryKey(),
  eventId: text('event_id').notNull(),
  status: text('status').$type<'assigned' | 'unroutable'>().notNull(),
  gridId: text('grid_id'),
  incidentId: text('incident_id'),
  resolvedBy: text('resolved_by'),
  reason: text('reason'),
  request: jsonb('request').$type<RequestReceivedV1>().notNull(),
  routedAt: ts('routed_at').notNull(),
  updatedAt: ts('updated_at').notNull(),
});

export const dataVersion = routing.table('data_version', {
  singleton: boolean('singleton').primaryKey(),
  version: bigint('version', { mode: 'number' }).notNull(),
  updatedAt: ts('updated_at').notNull(),
});
