import { SMS_KINDS, isSmsKind, type SmsKind } from '../templates/sms-kinds.ts';
import { smsRecipient } from './phone.ts';
import type { Channel, DeliveryPayload, SendOutcome, SendRequest } from './types.ts';

// Our message kinds → the SMS vendor's templates (NOTIFY_SMS_TEMPLATES). A cloud SMS vendor sends
// only templates it has approved: Alibaba names a template `SMS_123456789` and fills `${name}`
// variables from a JSON object; Tencent numbers it (`1234567`) and fills `{1}`, `{2}` … from an
// ordered list. So each kind maps to the vendor's template code and the ordered list of our
// parameter names the template uses:
//   {"dispatch.assigned": {"code": "SMS_4920001", "params": ["grid", "matter", "deadline"]},
//    "sla.breached": "SMS_4920002"}
// A bare string is a code with every parameter of the kind (Alibaba and the gateway only:
// Tencent's parameters are positional, so its mappings must list them).

export interface SmsTemplate {
  code: string;
  /** Our parameter names in the vendor template's order; null: every parameter of the kind, by name. */
  params: readonly string[] | null;
}

export type SmsTemplates = Partial<Record<SmsKind, SmsTemplate>>;

/** A message ready for a vendor: its template code and the values it fills, by name and in order. */
export interface VendorMessage {
  kind: SmsKind;
  code: string;
  named: Record<string, string>;
  ordered: string[];
}

/**
 * The vendor template for an sms payload, or the permanent failure that says why there is none.
 * An unmapped kind fails every message of that kind alike, but only that kind, and resending
 * will not map it: a permanent failure with its own word, not a crash and not a retry storm.
 */
export function vendorMessage(templates: SmsTemplates, payload: Extract<DeliveryPayload, { channel: 'sms' }>): VendorMessage | SendOutcome {
  const kind = payload.templateId;
  if (kind === null || !isSmsKind(kind))
    return permanent(`template_unmapped: message kind ${kind ?? '(none)'} is not one of ${Object.keys(SMS_KINDS).join(', ')}`);
  const template = templates[kind];
  if (!template) return permanent(`template_unmapped: no NOTIFY_SMS_TEMPLATES entry for ${kind}`);
  const names = template.params ?? SMS_KINDS[kind];
  const named: Record<string, string> = {};
  const ordered: string[] = [];
  for (const name of names) {
    const value = payload.params[name];
    if (value === undefined) return permanent(`template_param_missing: ${kind} has no parameter ${name}`);
    named[name] = value;
    ordered.push(value);
  }
  return { kind, code: template.code, named, ordered };
}

export function isVendorMessage(value: VendorMessage | SendOutcome): value is VendorMessage {
  return 'code' in value;
}

/**
 * A cloud SMS vendor's channel (Alibaba, Tencent): `send` gets the mainland mobile (`+86…`) and the
 * template message; a recipient or message no template can carry is refused before it.
 */
export function vendorSmsChannel(templates: SmsTemplates, send: (to: string, message: VendorMessage, request: SendRequest) => Promise<SendOutcome>): Channel {
  return {
    name: 'sms',
    async send(request: SendRequest): Promise<SendOutcome> {
      const target = smsRecipient(request);
      if ('refused' in target) return target.refused;
      const message = vendorMessage(templates, target.payload);
      return isVendorMessage(message) ? send(target.to, message, request) : message;
    },
  };
}

function permanent(error: string): SendOutcome {
  return { kind: 'permanent', statusCode: null, error };
}
