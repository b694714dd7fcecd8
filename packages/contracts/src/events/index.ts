import { z } from 'zod';
import {
  AreaType,
  Assignee,
  Category,
  Contact,
  Customer,
  GridKind,
  Incident,
  IncidentRole,
  IsoDateTime,
  Location,
  MeterEventKind,
  PlannedOutage,
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
  /**
   * Set on the work order intake opens for an incident that has no call yet (a meter-detected
   * outage, a feeder incident): grid-routing makes this request the incident's primary.
   */
  incidentId: z.string().optional(),
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
  /**
   * `primary`: the work order that carries the incident's crew, timers and escalation. `merged`:
   * a later call of the same incident — no timers, no staff notice, status follows the incident.
   * Absent for a request in no incident.
   */
  role: IncidentRole.optional(),
  /** The incident's estimated time of restoration (预计复电时间) when the call was routed. */
  etr: IsoDateTime.optional(),
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

/** A meter's power-off or power-on (主动抢修), as intake accepted it; key: 台区 code, else meter id. */
export const MeterEventV1 = z.object({
  source: z.string(),
  eventId: z.string(),
  kind: MeterEventKind,
  meterId: z.string(),
  accountNo: z.string().optional(),
  districtCode: z.string().optional(),
  at: IsoDateTime,
  receivedAt: IsoDateTime,
});
export type MeterEventV1 = z.infer<typeof MeterEventV1>;

/** The whole incident after the change the event type names (opened, updated, restored, closed). */
export const IncidentEventV1 = Incident.extend({
  /** What changed, for people reading the topic: `calls`, `etr`, `status`, `nested`, `meters`, ... */
  change: z.string(),
});
export type IncidentEventV1 = z.infer<typeof IncidentEventV1>;

/** A planned or temporary outage (计划停电) as created, moved or cancelled; key: its id. */
export const OutagePlannedV1 = PlannedOutage;
export type OutagePlannedV1 = z.infer<typeof OutagePlannedV1>;

/** What a customer notice tells (one SMS template per kind; vendor adapters map the kind to their template id). */
export const CustomerNoticeKind = z.enum([
  'outage.detected',
  'outage.etr_changed',
  'outage.restored',
  'planned.announced',
  'planned.reminder',
  'planned.changed',
  'planned.cancelled',
]);
export type CustomerNoticeKind = z.infer<typeof CustomerNoticeKind>;

/** One affected account with a mobile number: personal data, so only on the internal topic. */
export const NoticeRecipient = z.object({
  accountNo: z.string(),
  phone: z.string(),
  /** Customer classes (aquaculture, cold_storage, …): the order of sending. */
  classes: z.array(z.string()),
  districtCode: z.string(),
});
export type NoticeRecipient = z.infer<typeof NoticeRecipient>;

/**
 * Customers to tell of one stage of an incident or a planned outage (主动服务), on the internal
 * topic `customers.notices` (key: `subjectId`). A stage's recipients travel in parts of ≤ 500, in
 * urgency order; (subjectId, stage, accountNo) is the key notification stores once.
 */
export const CustomerNoticeV1 = z.object({
  subjectId: z.string(),
  subjectKind: z.enum(['incident', 'planned_outage']),
  kind: CustomerNoticeKind,
  /** The stage within the subject: `outage`, `etr:<etr>`, `restored`, `announced`, `reminder:<start>`, `changed:<start>/<end>`, `cancelled`. */
  stage: z.string().min(1),
  part: z.number().int().min(1),
  parts: z.number().int().min(1),
  /** Not before this instant (the 24-hour reminder of a planned outage); absent: now. */
  sendAt: IsoDateTime.optional(),
  /** Pending messages of this subject whose stage starts with this prefix and is not `stage` are dropped (a moved or cancelled outage's reminder). */
  supersedes: z.string().optional(),
  /** 台区 code → name, for the texts. */
  districts: z.record(z.string(), z.string()),
  etr: IsoDateTime.optional(),
  restoredAt: IsoDateTime.optional(),
  start: IsoDateTime.optional(),
  end: IsoDateTime.optional(),
  reason: z.string().optional(),
  recipients: z.array(NoticeRecipient).max(500),
});
export type CustomerNoticeV1 = z.infer<typeof CustomerNoticeV1>;
/** How a caller answered the callback (回访): power is back, or still out. */
export const CallbackReply = z.enum(['restored', 'still_out']);
export type CallbackReply = z.infer<typeof CallbackReply>;

/** Satisfaction with the service, 1 (poor) to 5 (very good). */
export const Satisfaction = z.number().int().min(1).max(5);

/**
 * intake asks a caller of a restored incident to confirm (回访): once per request. notification
 * texts `phone` and remembers the ask, so the caller's reply finds its request. Key: request id.
 */
export const CallbackRequestedV1 = z.object({
  requestId: z.string(),
  incidentId: z.string(),
  /** The caller's mobile number as the request gave it (personal data). */
  phone: z.string(),
  restoredAt: IsoDateTime,
  askedAt: IsoDateTime,
});
export type CallbackRequestedV1 = z.infer<typeof CallbackRequestedV1>;

/**
 * A caller's answer as intake recorded it, the first time each part arrived (the reply once, the
 * satisfaction once). `still_out` makes grid-routing open a follow-up incident on the 台区 with the
 * original start time. Key: request id.
 */
export const CallbackAnsweredV1 = z.object({
  requestId: z.string(),
  incidentId: z.string(),
  /** What this answer recorded now; null when it only added the satisfaction. */
  reply: CallbackReply.nullable(),
  satisfaction: Satisfaction.nullable(),
  at: IsoDateTime,
  via: z.enum(['sms', 'api']),
});
export type CallbackAnsweredV1 = z.infer<typeof CallbackAnsweredV1>;

/**
 * An SMS reply notification matched to what it answers: a staff member's `1 <code>` (acknowledge
 * the work order the code was sent for) or a caller's answer to a callback. Key: the work order
 * (acknowledge) or request (callback) id.
 */
export const ReplyReceivedV1 = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('acknowledge'),
    workOrderId: z.string(),
    /** The addressee the code was issued to (staff id). */
    by: z.string(),
    code: z.string(),
    at: IsoDateTime,
  }),
  z.object({
    kind: z.literal('callback'),
    requestId: z.string(),
    reply: CallbackReply.nullable(),
    satisfaction: Satisfaction.nullable(),
    at: IsoDateTime,
  }),
]);
export type ReplyReceivedV1 = z.infer<typeof ReplyReceivedV1>;

/** Every event type: its CloudEvents `type`, topic and data schema, in one table. */
export const EventTypes = {
  'cn.griddispatch.request.received.v1': { topic: Topics.requestsReceived, short: 'request.received', data: RequestReceivedV1 },
  'cn.griddispatch.dispatch.assigned.v1': { topic: Topics.dispatchAssigned, short: 'dispatch.assigned', data: DispatchAssignedV1 },
  'cn.griddispatch.dispatch.unroutable.v1': { topic: Topics.dispatchUnroutable, short: 'dispatch.unroutable', data: DispatchUnroutableV1 },
  'cn.griddispatch.workorder.updated.v1': { topic: Topics.workordersEvents, short: 'workorder.updated', data: WorkOrderUpdatedV1 },
  'cn.griddispatch.sla.warning.v1': { topic: Topics.slaWarnings, short: 'sla.warning', data: SlaWarningV1 },
  'cn.griddispatch.sla.breached.v1': { topic: Topics.slaBreaches, short: 'sla.breached', data: SlaBreachedV1 },
  'cn.griddispatch.meter.event.v1': { topic: Topics.metersEvents, short: 'meter.event', data: MeterEventV1 },
  'cn.griddispatch.incident.opened.v1': { topic: Topics.incidentsEvents, short: 'incident.opened', data: IncidentEventV1 },
  'cn.griddispatch.incident.updated.v1': { topic: Topics.incidentsEvents, short: 'incident.updated', data: IncidentEventV1 },
  'cn.griddispatch.incident.restored.v1': { topic: Topics.incidentsEvents, short: 'incident.restored', data: IncidentEventV1 },
  'cn.griddispatch.incident.closed.v1': { topic: Topics.incidentsEvents, short: 'incident.closed', data: IncidentEventV1 },
  'cn.griddispatch.outage.planned.v1': { topic: Topics.outagesPlanned, short: 'outage.planned', data: OutagePlannedV1 },
  'cn.griddispatch.customer.notice.v1': { topic: Topics.customersNotices, short: 'customer.notice', data: CustomerNoticeV1 },
  'cn.griddispatch.callback.requested.v1': { topic: Topics.callbacksEvents, short: 'callback.requested', data: CallbackRequestedV1 },
  'cn.griddispatch.callback.answered.v1': { topic: Topics.callbacksEvents, short: 'callback.answered', data: CallbackAnsweredV1 },
  'cn.griddispatch.reply.received.v1': { topic: Topics.repliesReceived, short: 'reply.received', data: ReplyReceivedV1 },
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
  meterEvent: 'cn.griddispatch.meter.event.v1',
  incidentOpened: 'cn.griddispatch.incident.opened.v1',
  incidentUpdated: 'cn.griddispatch.incident.updated.v1',
  incidentRestored: 'cn.griddispatch.incident.restored.v1',
  incidentClosed: 'cn.griddispatch.incident.closed.v1',
  outagePlanned: 'cn.griddispatch.outage.planned.v1',
  customerNotice: 'cn.griddispatch.customer.notice.v1',
  callbackRequested: 'cn.griddispatch.callback.requested.v1',
  callbackAnswered: 'cn.griddispatch.callback.answered.v1',
  replyReceived: 'cn.griddispatch.reply.received.v1',
} as const satisfies Record<string, EventType>;

/** The events of incidents.events: one schema (the whole incident after each change), four names. */
export const INCIDENT_EVENT_TYPES = [
  EventTypeName.incidentOpened,
  EventTypeName.incidentUpdated,
  EventTypeName.incidentRestored,
  EventTypeName.incidentClosed,
] as const;
export type IncidentEventType = (typeof INCIDENT_EVENT_TYPES)[number];
