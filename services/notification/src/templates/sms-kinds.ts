// The kinds of SMS the catalog renders, each with the named parameters its `sms.params` carries.
// A delivery row stores its kind (the sms payload's `templateId`); the SMS vendor's template code
// and parameter order come from NOTIFY_SMS_TEMPLATES at send time (channels/sms-templates.ts), so
// an operator maps a kind without a code change. A new kind is one line here (the catalog must
// render exactly these parameters in every locale: sms-kinds.test.ts), and config validation
// then accepts mappings for it.

import type { CustomerNoticeKind } from '@griddispatch/contracts';
import { CUSTOMER_PARAMS } from './customer.ts';

/** Staff, desk and reply messages: the catalogs render them (templates/zh-CN.ts, en.ts, replies.ts). */
export const STAFF_SMS_KINDS = {
  // `code`: the addressee's code to acknowledge by reply, added per phone (replies/ack-codes.ts).
  'dispatch.assigned': ['title', 'grid', 'matter', 'window', 'action', 'deadline', 'workOrder', 'code'],
  'dispatch.unroutable': ['workOrder', 'category', 'reason', 'desk'],
  'workorder.updated': ['title', 'grid', 'workOrder', 'change', 'at'],
  'sla.warning': ['grid', 'workOrder', 'stage', 'deadline', 'remaining'],
  'sla.breached': ['level', 'grid', 'workOrder', 'stage', 'lateness', 'deadline', 'roles'],
  'incident.opened': ['feeder', 'districts', 'districtCount', 'customers', 'etr', 'incident'],
  // Replies by SMS (templates/replies.ts): the callback ask (回访) has no parameter; the answer to a
  // refused reply names why and the code it was about ('' when none).
  'callback.requested': [],
  'reply.error': ['reason', 'code'],
} as const satisfies Record<string, readonly string[]>;

/** Every SMS kind: staff messages, and customers' (templates/customer.ts, whose texts use exactly CUSTOMER_PARAMS). */
export const SMS_KINDS: Readonly<Record<SmsKind, readonly string[]>> = { ...STAFF_SMS_KINDS, ...CUSTOMER_PARAMS };

export type SmsKind = keyof typeof STAFF_SMS_KINDS | CustomerNoticeKind;

export function isSmsKind(name: string): name is SmsKind {
  return Object.hasOwn(SMS_KINDS, name);
}
