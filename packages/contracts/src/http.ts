import { z } from 'zod';
import {
  Assignee,
  Category,
  Customer,
  GridKind,
  AreaType,
  IsoDateTime,
  Location,
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
    assignee: z.object({ staffId: z.string().min(1), name: z.string().min(1) }).strict().optional(),
  })
  .strict();
export type WorkOrderEventBody = z.infer<typeof WorkOrderEventBody>;

export const SubscriptionEventName = z.enum([
  'dispatch.assigned',
  'dispatch.unroutable',
  'workorder.updated',
  'sla.warning',
  'sla.breached',
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

export const RequestView = z.object({
  id: z.string(),
  source: z.string(),
  externalId: z.string(),
  category: Category,
  status: RequestStatus,
  receivedAt: IsoDateTime,
  grid: z.object({ id: z.string(), name: z.string(), kind: GridKind }).nullable(),
  incidentId: z.string().nullable(),
  assignees: z.array(Assignee),
  sla: z
    .object({
      policy: z.string(),
      deadlines: z.partialRecord(Stage, IsoDateTime),
      breaches: z.array(Breach),
    })
    .nullable(),
  timeline: z.array(TimelineEntry),
});
export type RequestView = z.infer<typeof RequestView>;

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
