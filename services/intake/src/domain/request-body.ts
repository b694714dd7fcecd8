import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { CreateRequestBody } from '@griddispatch/contracts';

// Intake's view of CreateRequestBody: the contract's schema plus text rules that keep
// identifiers usable and phone numbers dialable.

// Identifiers: letters (any script) and digits with a few separators. No spaces, quotes,
// brackets or invisible characters — what 95598, 12345 and account numbers use, and nothing
// that makes two keys look equal while they are not.
export const IDENTIFIER = /^[\p{L}\p{N}][\p{L}\p{N}._:/#-]*$/u;
export const IDENTIFIER_MESSAGE = 'may contain only letters, digits and . _ : / # - (no spaces, quotes or invisible characters)';
// Matching control characters is the point of this pattern.
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
    if (value !== undefined && !IDENTIFIER.test(value)) {
      issues.push({ path, message: IDENTIFIER_MESSAGE });
    }
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
