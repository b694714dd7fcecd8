import type { Contact, StaffRole } from '@griddispatch/contracts';
import { normalizeCnMobile } from '../channels/phone.ts';
import type { NotificationConfig } from '../config.ts';
import type { Rendered } from '../templates/index.ts';
import type { SmsKind } from '../templates/sms-kinds.ts';
import type { DeliveryDraft } from './record-deliveries.ts';

// Turning "who should hear about this" into delivery drafts, one per channel and recipient.
// Pure: the consumers decide the audience, these helpers shape the rows.

/**
 * SMS to each person with a phone; numbers are normalised so one phone is one recipient. The
 * payload's `templateId` is the message kind: the channel maps it to the vendor's template when it
 * sends (NOTIFY_SMS_TEMPLATES), so a template approved later serves rows already waiting.
 */
export function smsDrafts(phones: readonly (string | undefined)[], rendered: Rendered, kind: SmsKind): DeliveryDraft[] {
  const out: DeliveryDraft[] = [];
  for (const phone of phones) {
    if (!phone || !phone.trim()) continue;
    // An unusable number is still recorded: the delivery fails for good and shows why.
    const recipient = normalizeCnMobile(phone) ?? phone.trim();
    out.push({
      channel: 'sms',
      recipient,
      subscriptionId: null,
      payload: { channel: 'sms', templateId: kind, params: rendered.sms.params, text: rendered.sms.text },
    });
  }
  return out;
}

export function wecomDrafts(url: string | null, rendered: Rendered): DeliveryDraft[] {
  return url ? [{ channel: 'wecom', recipient: url, subscriptionId: null, payload: { channel: 'wecom', url, markdown: rendered.markdown } }] : [];
}

export function logDrafts(recipient: string, rendered: Rendered): DeliveryDraft[] {
  return [{ channel: 'log', recipient, subscriptionId: null, payload: { channel: 'log', text: rendered.text } }];
}

/** The CloudEvent exactly as it arrived (unknown newer fields included) to each subscription. */
export function webhookDrafts(subscriptionIds: readonly string[], eventId: string, body: string): DeliveryDraft[] {
  return subscriptionIds.map((id) => ({ channel: 'webhook', recipient: id, subscriptionId: id, payload: { channel: 'webhook', eventId, body } }));
}

export function phonesOf(people: readonly Pick<Contact, 'phone'>[]): (string | undefined)[] {
  return people.map((p) => p.phone);
}

/** The contacts holding one of `roles`. */
export function contactsWithRoles(contacts: readonly Contact[], roles: readonly StaffRole[]): Contact[] {
  return contacts.filter((c) => roles.includes(c.role));
}

/** The phone of each assignee, from the grid's contacts (assignees carry no phone themselves). */
export function assigneeContacts(assignees: readonly { staffId: string }[], contacts: readonly Contact[]): Contact[] {
  return assignees.map((a) => contacts.find((c) => c.staffId === a.staffId)).filter((c): c is Contact => c !== undefined);
}

/** The grid's WeCom robot: its own, else its area grid's, else the default one. */
export function robotFor(config: Pick<NotificationConfig, 'wecomRobots' | 'wecomDefaultRobot'>, gridId: string, areaId?: string | null): string | null {
  return config.wecomRobots[gridId] ?? (areaId ? config.wecomRobots[areaId] : undefined) ?? config.wecomDefaultRobot;
}

/** The operator desk: its robot and phones when configured, else the log. */
export function deskDrafts(config: Pick<NotificationConfig, 'operatorDesk'>, desk: string, rendered: Rendered, kind: SmsKind): DeliveryDraft[] {
  const { wecomUrl, phones } = config.operatorDesk;
  if (!wecomUrl && phones.length === 0) return logDrafts(`desk:${desk}`, rendered);
  return [...wecomDrafts(wecomUrl, rendered), ...smsDrafts(phones, rendered, kind)];
}
