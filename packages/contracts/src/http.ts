import { z } from 'zod';
import {
  Assignee,
  Category,
  Customer,
  GridKind,
  AreaType,
  IncidentRole,
  IsoDateTime,
  Location,
  MeterEventKind,
  PlannedOutageKind,
  RequestStatus,
  Stage,
  StaffRole,
  Urgency,
  WorkOrderEventType,
} from './domain.ts';

export const CreateRequestBody = z
  .object({
    source: z.string().trim().min(1).max(64),
    externalId: z.string().trim().min(1).max(128),
    category: Category,
    description: z.string().max(4000).optional(),
    reportedAt: IsoDateTime.optional(),
    urgency: Urgency.optional(),
    customer: Customer.optional(),
    location: Location,
  })
  .strict()
  .superRefine((body, ctx) => {
    const loc = body.location;
    const hasPoint = loc.lon !== undefined && loc.lat !== undefined;
    if ((loc.lon === undefined) !== (loc.lat === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['location'], message: 'lon and lat must be given together' });
    }
    if (!body.customer?.accountNo && !loc.districtCode && !loc.communityCode && !hasPoint) {
      ctx.addIssue({
        code: 'custom',
        path: ['location'],
        message: 'give at least one of customer.accountNo, location.districtCode, location.communityCode or location.lon+lat',
      });
    }
  });
export type CreateRequestBody = z.infer<typeof CreateRequestBody>;

export const CreateRequestResponse = z.object({
  id: z.string(),
  status: RequestStatus,
  duplicate: z.boolean(),
});
export type CreateRequestResponse = z.infer<typeof CreateRequestResponse>;

export const WorkOrderEventBody = z
  .object({
    type: WorkOrderEventType,
    at: IsoDateTime.optional(),
    by: z.string().trim().min(1).max(100).optional(),
    note: z.string().max(2000).optional(),
    /** For `reassigned`: the staff member who takes over. */
    assignee: z
      .object({ staffId: z.string().min(1), name: z.string().min(1) })
      .strict()
      .optional(),
  })
  .strict();
export type WorkOrderEventBody = z.infer<typeof WorkOrderEventBody>;

export const SubscriptionEventName = z.enum([
  'dispatch.assigned',
  'dispatch.unroutable',
  'workorder.updated',
  'sla.warning',
  'sla.breached',
  'incident.opened',
  'incident.updated',
  'incident.restored',
  'incident.closed',
]);
export type SubscriptionEventName = z.infer<typeof SubscriptionEventName>;

export const CreateSubscriptionBody = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    events: z.array(SubscriptionEventName).min(1),
    gridIds: z.array(z.string().min(1)).optional(),
  })
  .strict();
export type CreateSubscriptionBody = z.infer<typeof CreateSubscriptionBody>;

export const CreateSubscriptionResponse = z.object({
  id: z.string(),
  /** `whsec_<base64>`; shown once. */
  secret: z.string().startsWith('whsec_'),
});

export const Breach = z.object({ stage: Stage, deadline: IsoDateTime, level: z.number().int().min(1) });

export const TimelineEntry = z.object({
  at: IsoDateTime,
  type: z.string(),
  by: z.string().optional(),
  note: z.string().optional(),
});

/** Where a work order stands — its grid, its incident, its crew — as every view of it shows it (RequestView, the board's item). */
export const WorkOrderPlace = {
  grid: z.object({ id: z.string(), name: z.string(), kind: GridKind }).nullable(),
  incidentId: z.string().nullable(),
  /** `primary` or `merged` in its incident (a merged call follows the incident's status, no crew of its own); null in none. */
  role: IncidentRole.nullable(),
  /** The incident's estimated restoration (预计复电时间), as last heard; null in none. */
  etr: IsoDateTime.nullable(),
  assignees: z.array(Assignee),
};

export const RequestView = z.object({
  id: z.string(),
  source: z.string(),
  externalId: z.string(),
  category: Category,
  status: RequestStatus,
  receivedAt: IsoDateTime,
  ...WorkOrderPlace,
  sla: z
    .object({
      policy: z.string(),
      deadlines: z.partialRecord(Stage, IsoDateTime),
      breaches: z.array(Breach),
    })
    .nullable(),
  timeline: z.array(TimelineEntry),
  /**
   * The callback (回访) after its incident's restoration: null until the caller was asked (or when
   * the request is in no incident); `reply` and `satisfaction` (1–5) are null until answered.
   */
  callback: z
    .object({
      askedAt: IsoDateTime,
      /** Whether the ask went out by SMS (the caller gave a mobile number). */
      bySms: z.boolean(),
      reply: z.enum(['restored', 'still_out']).nullable(),
      satisfaction: z.number().int().min(1).max(5).nullable(),
      answeredAt: IsoDateTime.nullable(),
    })
    .nullable(),
});
export type RequestView = z.infer<typeof RequestView>;

/** POST /v1/callbacks/:requestId: a callback's answer taken by phone or in another system. */
export const CallbackAnswerBody = z
  .object({
    reply: z.enum(['restored', 'still_out']),
    satisfaction: z.number().int().min(1).max(5).optional(),
    at: IsoDateTime.optional(),
  })
  .strict();
export type CallbackAnswerBody = z.infer<typeof CallbackAnswerBody>;

/** One SMS a customer or staff member sent to the service number, as the SMS gateway hands it over. */
export const InboundSms = z
  .object({
    from: z.string().trim().min(1).max(32),
    text: z.string().max(1000),
    at: IsoDateTime,
  })
  .strict();
export type InboundSms = z.infer<typeof InboundSms>;

/** POST /v1/inbound/sms: one message, or up to 100 in order. */
export const InboundSmsBody = z.union([InboundSms, z.array(InboundSms).min(1).max(100)]);
export type InboundSmsBody = z.infer<typeof InboundSmsBody>;

/** What became of one inbound SMS (in the order posted). */
export const InboundSmsOutcome = z.object({
  outcome: z.enum(['acknowledged', 'callback_answered', 'duplicate', 'refused']),
  /** Why it was refused: the code is unknown, stale or another number's; the number was never asked; the text is not a reply. */
  reason: z.enum(['unknown_code', 'stale_code', 'not_addressee', 'not_asked', 'not_understood', 'bad_number']).optional(),
  /** The work order (acknowledged) or request (callback) it applied to. */
  id: z.string().optional(),
  /** Whether an explanatory SMS was queued back to the sender. */
  replied: z.boolean(),
});
export type InboundSmsOutcome = z.infer<typeof InboundSmsOutcome>;

export const InboundSmsResponse = z.object({ results: z.array(InboundSmsOutcome) });
export type InboundSmsResponse = z.infer<typeof InboundSmsResponse>;

export const GridView = z.object({
  id: z.string(),
  name: z.string(),
  kind: GridKind,
  parentId: z.string().nullable(),
  areaType: AreaType,
  communityCode: z.string().nullable(),
  districts: z.array(z.string()),
  polygon: z.unknown().nullable(),
  staff: z.array(z.object({ id: z.string(), name: z.string(), role: StaffRole })),
});
export type GridView = z.infer<typeof GridView>;

export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

// Outages (docs/architecture.md#incidents).

export const MeterEventItem = z
  .object({
    eventId: z.string().trim().min(1).max(128),
    kind: MeterEventKind,
    meterId: z.string().trim().min(1).max(64),
    accountNo: z.string().trim().min(1).max(64).optional(),
    districtCode: z.string().trim().min(1).max(64).optional(),
    at: IsoDateTime,
  })
  .strict();

/** `POST /v1/meter-events`: up to 1,000 power-off / power-on events; (source, eventId) is idempotent. */
export const MeterEventsBody = z
  .object({
    source: z.string().trim().min(1).max(64),
    events: z.array(MeterEventItem).min(1).max(1000),
  })
  .strict();
export type MeterEventsBody = z.infer<typeof MeterEventsBody>;

export const MeterEventsResponse = z.object({ accepted: z.number().int().min(0), duplicates: z.number().int().min(0) });

/** `PUT /v1/incidents/:id/etr`: a hand-set ETR, never overwritten by a computed one. */
export const SetEtrBody = z
  .object({
    etr: IsoDateTime,
    by: z.string().trim().min(1).max(100),
    reason: z.string().max(500).optional(),
  })
  .strict();
export type SetEtrBody = z.infer<typeof SetEtrBody>;

/** `PUT /v1/storm`: storm mode for some grids or all. */
export const StormBody = z
  .object({
    gridIds: z.union([z.array(z.string().min(1)).min(1), z.literal('all')]),
    active: z.boolean(),
    factor: z.number().min(1).max(10).optional(),
  })
  .strict();
export type StormBody = z.infer<typeof StormBody>;

/** `POST /v1/planned-outages`: name the 台区, or the feeder (all its 台区). */
export const CreatePlannedOutageBody = z
  .object({
    externalId: z.string().trim().min(1).max(128),
    kind: PlannedOutageKind,
    districtCodes: z.array(z.string().trim().min(1)).min(1).optional(),
    feederCode: z.string().trim().min(1).optional(),
    start: IsoDateTime,
    end: IsoDateTime,
    reason: z.string().trim().min(1).max(500),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (!body.districtCodes === !body.feederCode) {
      ctx.addIssue({ code: 'custom', path: ['districtCodes'], message: 'give either districtCodes or feederCode' });
    }
    if (Date.parse(body.end) <= Date.parse(body.start)) ctx.addIssue({ code: 'custom', path: ['end'], message: 'end must be after start' });
  });
export type CreatePlannedOutageBody = z.infer<typeof CreatePlannedOutageBody>;

/** `PUT /v1/planned-outages/:id`: the outage's new window (and reason); its 台区 stay. */
export const MovePlannedOutageBody = z
  .object({
    start: IsoDateTime,
    end: IsoDateTime,
    reason: z.string().trim().min(1).max(500).optional(),
  })
  .strict();
export type MovePlannedOutageBody = z.infer<typeof MovePlannedOutageBody>;
