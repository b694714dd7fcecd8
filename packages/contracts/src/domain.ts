import { z } from 'zod';

export const Category = z.enum(['fault_repair', 'new_connection', 'billing', 'consultation', 'complaint', 'report', 'service_request']);
export type Category = z.infer<typeof Category>;

/** Each category by the name the grid company and its callers use (95598's 业务类别): one wording in the CLI, the messages and Open311. */
export const CATEGORY_NAMES: Record<Category, string> = {
  fault_repair: '故障报修',
  new_connection: '业扩报装',
  billing: '电费',
  consultation: '咨询',
  complaint: '投诉',
  report: '举报',
  service_request: '服务申请',
};

export const CustomerClass = z.enum(['resident', 'commercial', 'aquaculture', 'cold_storage', 'vulnerable', 'important']);
export type CustomerClass = z.infer<typeof CustomerClass>;

export const Urgency = z.enum(['normal', 'urgent', 'critical']);
export type Urgency = z.infer<typeof Urgency>;

export const GridKind = z.enum(['area', 'feeder', 'district']);
export type GridKind = z.infer<typeof GridKind>;

export const AreaType = z.enum(['urban', 'rural', 'remote']);
export type AreaType = z.infer<typeof AreaType>;

export const StaffRole = z.enum(['manager', 'assistant', 'supervisor', 'repair_crew', 'station_head']);
export type StaffRole = z.infer<typeof StaffRole>;

export const Stage = z.enum(['ack', 'arrive', 'resolve', 'callback']);
export type Stage = z.infer<typeof Stage>;

export const RequestStatus = z.enum([
  'received',
  'assigned',
  'unroutable',
  'acknowledged',
  'en_route',
  'arrived',
  'resolved',
  'closed',
  'suspended',
  'cancelled',
]);
export type RequestStatus = z.infer<typeof RequestStatus>;

/** What a field app or operator may post to `/v1/work-orders/:id/events`, in workflow order (intake's 409 lists the allowed ones in it). */
export const WorkOrderEventType = z.enum(['acknowledged', 'en_route', 'arrived', 'resolved', 'closed', 'suspended', 'resumed', 'reassigned', 'cancelled']);
export type WorkOrderEventType = z.infer<typeof WorkOrderEventType>;

/** The work-order event that satisfies each SLA stage (docs/architecture.md#sla-policy). */
export const STAGE_SATISFIED_BY: Record<Stage, WorkOrderEventType> = {
  ack: 'acknowledged',
  arrive: 'arrived',
  resolve: 'resolved',
  callback: 'closed',
};

export const IsoDateTime = z.iso.datetime({ offset: true });

export const Location = z
  .object({
    districtCode: z.string().trim().min(1).max(64).optional(),
    feederCode: z.string().trim().min(1).max(64).optional(),
    communityCode: z.string().trim().min(1).max(64).optional(),
    lon: z.number().min(-180).max(180).optional(),
    lat: z.number().min(-90).max(90).optional(),
    address: z.string().max(500).optional(),
  })
  .strict();
export type Location = z.infer<typeof Location>;

export const Customer = z
  .object({
    accountNo: z.string().trim().min(1).max(64).optional(),
    name: z.string().max(100).optional(),
    phone: z.string().max(32).optional(),
    classes: z.array(CustomerClass).max(6).optional(),
  })
  .strict();
export type Customer = z.infer<typeof Customer>;

export const Assignee = z.object({
  staffId: z.string(),
  name: z.string(),
  role: StaffRole,
});
export type Assignee = z.infer<typeof Assignee>;

/** A person reachable for notifications; phone in +86 E.164 where known. */
export const Contact = Assignee.extend({
  phone: z.string().optional(),
  wecomUserId: z.string().optional(),
});
export type Contact = z.infer<typeof Contact>;

// Outages (docs/architecture.md#incidents): the incident is the unit of dispatch.

export const IncidentStatus = z.enum(['open', 'dispatched', 'en_route', 'arrived', 'restored', 'closed']);
export type IncidentStatus = z.infer<typeof IncidentStatus>;

/** What opened the incident: a customer's call, its meters' power-off, or a planned outage. */
export const IncidentOrigin = z.enum(['call', 'meter', 'planned']);
export type IncidentOrigin = z.infer<typeof IncidentOrigin>;

export const IncidentRole = z.enum(['primary', 'merged']);
export type IncidentRole = z.infer<typeof IncidentRole>;

export const MeterEventKind = z.enum(['power_off', 'power_on']);
export type MeterEventKind = z.infer<typeof MeterEventKind>;

/** One supply fault: `GET /v1/incidents/:id` and the data of every `incidents.events` event. */
export const Incident = z.object({
  id: z.string(),
  status: IncidentStatus,
  origin: IncidentOrigin,
  /** `district`: one 台区's fault; `feeder`: the predicted upstream fault its children nest under. */
  kind: z.enum(['district', 'feeder']),
  gridId: z.string(),
  feederCode: z.string().nullable(),
  districtCodes: z.array(z.string()),
  parentId: z.string().nullable(),
  childIds: z.array(z.string()),
  callCount: z.number().int().min(0),
  affectedCustomers: z.number().int().min(0),
  urgency: Urgency,
  openedAt: IsoDateTime,
  etr: IsoDateTime,
  etrSource: z.enum(['policy', 'manual', 'planned']),
  primaryRequestId: z.string().nullable(),
  plannedOutageId: z.string().nullable(),
  restoredAt: IsoDateTime.nullable(),
  restorationUnconfirmed: z.boolean(),
  updatedAt: IsoDateTime,
});
export type Incident = z.infer<typeof Incident>;

export const PlannedOutageKind = z.enum(['planned', 'temporary']);
export type PlannedOutageKind = z.infer<typeof PlannedOutageKind>;

/** A planned (计划停电, ≥ 7 days' notice) or temporary (临时停电, ≥ 24 h) outage. */
export const PlannedOutage = z.object({
  id: z.string(),
  externalId: z.string(),
  kind: PlannedOutageKind,
  status: z.enum(['scheduled', 'cancelled']),
  districtCodes: z.array(z.string()),
  feederCode: z.string().nullable(),
  start: IsoDateTime,
  end: IsoDateTime,
  reason: z.string(),
  createdAt: IsoDateTime,
});
export type PlannedOutage = z.infer<typeof PlannedOutage>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Request, work-order and delivery ids are UUIDs: checked before a lookup or a `::uuid` cast, so a bad id is a 404 or a refused event, not a database error. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
