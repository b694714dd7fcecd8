// The kinds of SMS the catalog renders, each with the named parameters its `sms.params` carries.
// A delivery row stores its kind (the sms payload's `templateId`); the SMS vendor's template code
// and parameter order come from NOTIFY_SMS_TEMPLATES at send time (channels/sms-templates.ts), so
// an operator maps a kind without a code change. A new kind is one line here (the catalog must
// render exactly these parameters in every locale: sms-kinds.test.ts), and config validation
// then accepts mappings for it.

export const SMS_KINDS = {
  'dispatch.assigned': ['title', 'grid', 'matter', 'window', 'action', 'deadline', 'workOrder'],
  'dispatch.unroutable': ['workOrder', 'category', 'reason', 'desk'],
  'workorder.updated': ['title', 'grid', 'workOrder', 'change', 'at'],
  'sla.warning': ['grid', 'workOrder', 'stage', 'deadline', 'remaining'],
  'sla.breached': ['level', 'grid', 'workOrder', 'stage', 'lateness', 'deadline', 'roles'],
  'incident.opened': ['feeder', 'districts', 'districtCount', 'customers', 'etr', 'incident'],
} as const satisfies Record<string, readonly string[]>;

export type SmsKind = keyof typeof SMS_KINDS;

export function isSmsKind(name: string): name is SmsKind {
  return Object.hasOwn(SMS_KINDS, name);
}
