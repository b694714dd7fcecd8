import type {
  Assignee,
  Category,
  Contact,
  CustomerClass,
  DispatchAssignedV1,
  DispatchUnroutableV1,
  IncidentEventV1,
  SlaBreachedV1,
  SlaWarningV1,
  StaffRole,
  WorkOrderUpdatedV1,
} from '@griddispatch/contracts';

export type Locale = 'zh-CN' | 'en';

/**
 * What notification remembers of a work order from its `dispatch.assigned` (the copy lives in
 * `notification.work_orders`), so later events that carry only ids read well.
 */
export interface WorkOrderContext {
  workOrderId: string;
  gridId: string;
  gridName: string;
  districtCode: string | null;
  category: Category;
  customerClasses: string[];
}

export interface FormatOptions {
  locale: Locale;
  timeZone: string;
}

/** One event rendered for each channel that shows text (webhooks carry the CloudEvent itself). */
export interface Rendered {
  /** SMS: the full text, and the same content as named parameters for gateways that use templates. */
  sms: { text: string; params: Record<string, string> };
  /** WeCom group robot markdown. */
  markdown: string;
  /** One line for the log channel. */
  text: string;
}

export interface Catalog {
  dispatchAssigned(data: DispatchAssignedV1): Rendered;
  dispatchUnroutable(data: DispatchUnroutableV1): Rendered;
  workOrderUpdated(data: WorkOrderUpdatedV1, context: WorkOrderContext | null): Rendered;
  slaWarning(data: SlaWarningV1, context: WorkOrderContext | null): Rendered;
  slaBreached(data: SlaBreachedV1, context: WorkOrderContext | null, mentions: Mention[]): Rendered;
  /** A feeder incident opened: the predicted upstream fault, for the crew and the station head. */
  feederIncident(data: IncidentEventV1, mentions: Mention[]): Rendered;
}

/** The first few 台区 of an incident for a message, and how many there are. */
export function districtList(codes: readonly string[], max = 5): { shown: string[]; more: number } {
  return { shown: codes.slice(0, max), more: Math.max(0, codes.length - max) };
}

/** Someone to @-mention in a WeCom group message. */
export interface Mention {
  name: string;
  role: StaffRole;
  wecomUserId?: string;
}

/** The customer class that matters most for the message (aerators die first). */
export const CLASS_PRIORITY: readonly CustomerClass[] = ['aquaculture', 'cold_storage', 'important', 'vulnerable', 'commercial', 'resident'];

export function primaryClass(classes: readonly string[]): CustomerClass | null {
  return CLASS_PRIORITY.find((c) => classes.includes(c)) ?? null;
}

/** An assignee as a mention, with the WeCom user id from the grid's contacts when known. */
export function mentionOf(a: Assignee, contacts: readonly Contact[]): Mention {
  const c = contacts.find((x) => x.staffId === a.staffId);
  return c?.wecomUserId ? { name: a.name, role: a.role, wecomUserId: c.wecomUserId } : { name: a.name, role: a.role };
}
