import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { CreateRequestBody } from '@griddispatch/contracts';

// Intake's view of CreateRequestBody: the contract's schema plus the text rules that keep
// identifiers usable (no invisible or direction-changing characters, which make two keys look
// equal while they are not) and phone numbers dialable.

// Matching control characters is the point of these two patterns.
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/;
// Free text may hold newlines and tabs, and RTL text, but no other control characters and
// no explicit bidi overrides (they reorder what an operator reads on the console).
// eslint-disable-next-line no-control-regex
const FREE_TEXT_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;
const PHONE = /^\+?[0-9][0-9 ()-]{3,30}$/;

type Issue = { path: (string | number)[]; message: string };

function checkText(body: z.output<typeof CreateRequestBody>): Issue[] {
  const issues: Issue[] = [];
  const identifiers: [(string | number)[], string | undefined][] = [
    [['source'], body.source],
    [['externalId'], body.externalId],
    [['customer', 'accountNo'], body.customer?.accountNo],
    [['location', 'districtCode'], body.location.districtCode],
    [['location', 'feederCode'], body.location.feederCode],
    [['location', 'communityCode'], body.location.communityCode],
  ];
  for (const [path, value] of identifiers) {
    if (value !== undefined && INVISIBLE.test(value)) issues.push({ path, message: 'must not contain control, zero-width or bidi characters' });
  }
  const freeText: [(string | number)[], string | undefined][] = [
    [['description'], body.description],
    [['location', 'address'], body.location.address],
    [['customer', 'name'], body.customer?.name],
  ];
  for (const [path, value] of freeText) {
    if (value !== undefined && FREE_TEXT_FORBIDDEN.test(value)) issues.push({ path, message: 'must not contain control characters or bidi overrides' });
  }
  const phone = body.customer?.phone;
  if (phone !== undefined && (!PHONE.test(phone) || phone.replace(/\D/g, '').length < 5)) {
    issues.push({ path: ['customer', 'phone'], message: 'must be a phone number (digits, spaces, +, -, parentheses)' });
  }
  return issues;
}

export const IntakeRequestBody = CreateRequestBody.superRefine((body, ctx) => {
  for (const issue of checkText(body)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
});
export type IntakeRequestBody = z.output<typeof IntakeRequestBody>;

/** JSON with sorted keys and no undefined members: equal documents give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * Fingerprint of what the caller asked for, for idempotency: the validated body (trimmed
 * strings), key order ignored, `reportedAt` as an instant (the same moment in another offset is
 * the same report) and urgency defaulted.
 */
export function bodyHash(body: IntakeRequestBody): string {
  const normalized = {
    ...body,
    urgency: body.urgency ?? 'normal',
    reportedAt: body.reportedAt ? new Date(body.reportedAt).toISOString() : undefined,
  };
  return createHash('sha256').update(canonicalJson(normalized)).digest('hex');
}
