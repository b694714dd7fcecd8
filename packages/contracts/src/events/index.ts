import { z } from 'zod';
import {
  AreaType,
  Assignee,
  Category,
  Contact,
  Customer,
  GridKind,
  IsoDateTime,
  Location,
  RequestStatus,
  Stage,
  StaffRole,
  Urgency,
  WorkOrderEventType,
} from '../domain.ts';
import { Topics, type Topic } from '../topics.ts';

// Event data schemas. A version only gains optional fields; a breaking change is a new `.vN`
// type beside the old one (docs/architecture.md#topics-and-events).

export const RequestReceivedV1 = z.object({
  id: z.string(),
  source: z.string(),
  externalId: z.string(),
  category: Category,
  description: z.string().optional(),
  reportedAt: IsoDateTime.optional(),
  receivedAt: IsoDateTime,
  urgency: Urgency,
  customer: Customer.optional(),
  location: Location,
});
export type RequestReceivedV1 = z.infer<typeof RequestReceivedV1>;

export const GridRef = z.object({
  id: z.string(),
  name: z.string(),
  kind: GridKind,
  areaType: AreaType,
  /** The area grid this grid belongs to (itself for an area grid). */
  areaId: z.string().optional(),
});
export type GridRef = z.infer<typeof GridRef>;

export const EscalationStep = z.object({
  /** Milliseconds after the breach. */
  afterMs: z.number().int().min(0),
  notify: z.array(StaffRole),
});

export const SlaPlan = z.object({
  policy: z.string(),
  deadlines: z.partialRecord(Stage, IsoDateTime),
  warnBeforeMs: z.number().int().min(0).nullable(),
  escalation: z.array(EscalationStep),
  /** Name of the policy calendar when windows count working hours only. */
  calendar: z.string().nullable(),
});
export type SlaPlan = z.infer<typeof SlaPlan>;

export const DispatchAssignedV1 = z.object({
  workOrderId: z.string(),
  request: RequestReceivedV1,
  grid: GridRef,
  /** Resolution path that found the grid. */
  resolvedBy: z.enum(['account', 'district', 'point', 'nearest', 'community', 'manual']),
  districtCode: z.string().nullable(),
  assignees: z.array(Assignee),
  /** Everyone reachable for this grid, by role, for notifications and escalation. */
  contacts: z.array(Contact),
  customerClasses: z.array(z.string()),
  homeVisit: z.boolean(),
  incidentId: z.string().nullable(),
  incidentSize: z.number().int().min(1).optional(),
  urgency: Urgency,
  sla: SlaPlan,
});
export type DispatchAssignedV1 = z.infer<typeof DispatchAssignedV1>;

export const DispatchUnroutableV1 = z.object({
  workOrderId: z.string(),
  request: RequestReceivedV1,
  reason: z.string(),
  fallbackDesk: z.string(),
});
export type DispatchUnroutableV1 = z.infer<typeof DispatchUnroutableV1>;

export const WorkOrderUpdatedV1 = z.object({
  workOrderId: z.string(),
  type: WorkOrderEventType,
  at: IsoDateTime,
  by: z.string().optional(),
  note: z.string().optional(),
  previousStatus: RequestStatus,
  status: RequestStatus,
  gridId: z.string().nullable(),
  assignee: z.object({ staffId: z.string(), name: z.string() }).optional(),
});
export type WorkOrderUpdatedV1 = z.infer<typeof WorkOrderUpdatedV1>;

export const SlaWarningV1 = z.object({
  workOrderId: z.string(),
  gridId: z.string(),
  policy: z.string(),
  stage: Stage,
  deadline: IsoDateTime,
  /** Milliseconds left when the warning fired. */
  remainingMs: z.number().int(),
  late: z.boolean(),
});
export type SlaWarningV1 = z.infer<typeof SlaWarningV1>;

export const SlaBreachedV1 = z.object({
  workOrderId: z.string(),
  gridId: z.string(),
  policy: z.string(),
  stage: Stage,
  deadline: IsoDateTime,
  /** Milliseconds past the deadline when this event fired. */
  latenessMs: z.number().int().min(0),
  level: z.number().int().min(1),
  notify: z.array(StaffRole),
  /** True when fired after downtime, later than scheduled. */
  late: z.boolean(),
});
export type SlaBreachedV1 = z.infer<typeof SlaBreachedV1>;

/** Every event type: its CloudEvents `type`, topic and data schema, in one table. */
export const EventTypes = {
  'cn.griddispatch.request.received.v1': { topic: Topics.requestsReceived, short: 'request.received', data: RequestReceivedV1 },
  'cn.griddispatch.dispatch.assigned.v1': { topic: Topics.dispatchAssigned, short: 'dispatch.assigned', data: DispatchAssignedV1 },
  'cn.griddispatch.dispatch.unroutable.v1': { topic: Topics.dispatchUnroutable, short: 'dispatch.unroutable', data: DispatchUnroutableV1 },
  'cn.griddispatch.workorder.updated.v1': { topic: Topics.workordersEvents, short: 'workorder.updated', data: WorkOrderUpdatedV1 },
  'cn.griddispatch.sla.warning.v1': { topic: Topics.slaWarnings, short: 'sla.warning', data: SlaWarningV1 },
  'cn.griddispatch.sla.breached.v1': { topic: Topics.slaBreaches, short: 'sla.breached', data: SlaBreachedV1 },
} as const satisfies Record<string, { topic: Topic; short: string; data: z.ZodType }>;

export type EventType = keyof typeof EventTypes;
export type EventData<T extends EventType> = z.infer<(typeof EventTypes)[T]['data']>;

export const EventTypeName = {
  requestReceived: 'cn.griddispatch.request.received.v1',
  dispatchAssigned: 'cn.griddispatch.dispatch.assigned.v1',
  dispatchUnroutable: 'cn.griddispatch.dispatch.unroutable.v1',
  workorderUpdated: 'cn.griddispatch.workorder.updated.v1',
  slaWarning: 'cn.griddispatch.sla.warning.v1',
  slaBreached: 'cn.griddispatch.sla.breached.v1',
} as const satisfies Record<string, EventType>;
