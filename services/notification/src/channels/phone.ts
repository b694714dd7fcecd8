// Mainland China mobile numbers as the SMS gateways want them: +86 E.164 (`+8613800138000`).
// Accepts the spellings found in staff rosters: spaces, dashes, `86`/`0086`/`+86` prefixes.
// Landlines cannot receive SMS, so they are not valid here.

import type { DeliveryPayload, SendOutcome, SendRequest } from './types.ts';

const MOBILE = /^1[3-9]\d{9}$/;

/** `+86…` for a valid mainland mobile number, otherwise null. */
export function normalizeCnMobile(raw: string): string | null {
  const compact = raw.replace(/[\s\-().]/g, '');
  let digits: string;
  if (compact.startsWith('+86')) digits = compact.slice(3);
  else if (compact.startsWith('0086')) digits = compact.slice(4);
  else if (compact.startsWith('86') && compact.length === 13) digits = compact.slice(2);
  else digits = compact;
  return MOBILE.test(digits) ? `+86${digits}` : null;
}

export type SmsPayload = Extract<DeliveryPayload, { channel: 'sms' }>;

/**
 * What every SMS vendor checks first: the payload is an SMS one (another is a wiring bug, thrown)
 * and the recipient is a mainland mobile; a number that is not one fails permanently (no
 * vendor can deliver it, so resending would not help).
 */
export function smsRecipient(request: SendRequest): { payload: SmsPayload; to: string } | { refused: SendOutcome } {
  const { payload } = request;
  if (payload.channel !== 'sms') throw new Error(`sms channel got a ${payload.channel} payload`);
  const to = normalizeCnMobile(request.recipient);
  if (!to) return { refused: { kind: 'permanent', statusCode: null, error: 'invalid phone number (not a mainland mobile)' } };
  return { payload, to };
}
