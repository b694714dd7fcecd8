import { createHmac } from 'node:crypto';

// Personal data in events sent to integrators whose key lacks `pii:read` (issue 17.2; the README's
// "Personal data" section says the same for integrators). The walk is over field names, not over
// one event type's shape, so every event type — and a field a later version adds under a known
// name — is covered:
//   phone / mobile / tel      → 138****5678 (first 3 and last 4 digits of the national number)
//   name (any person: customer, assignees, contacts, assignee; not the grid's name) → 王*
//   accountNo                 → acct_ + HMAC-SHA256(server key, account) truncated to 16 hex digits:
//                               stable, so repeated calls of one account can be correlated, but
//                               not reversible by trying every account number without the key
//   address, wecomUserId      → dropped
//   lon / lat                 → rounded to 2 decimals (about 1 km: the area, not the house)
//   description / note / reason (free text) → every run of 7+ digits masked like a phone, and
//                               the names the event's own fields carry reduced (a name the
//                               fields do not carry cannot be recognised in free text)
//   by                        → kept when it is an id (`S-mgr`, a key name), else reduced like a name

export interface Redactor {
  /** The CloudEvent JSON with its `data` redacted; the envelope is unchanged. */
  redactEvent(body: string): string;
}

const PHONE_KEYS = new Set(['phone', 'mobile', 'tel']);
const DROPPED_KEYS = new Set(['address', 'wecomUserId']);
const FREE_TEXT_KEYS = new Set(['description', 'note', 'reason']);
/** Objects whose `name` is not a person's. */
const NOT_PERSON_KEYS = new Set(['grid']);

/** 138****5678; anything too short to be a phone is starred whole. */
export function maskPhone(phone: string): string {
  let digits = phone.replace(/\D/g, '');
  if (digits.length === 13 && digits.startsWith('86')) digits = digits.slice(2);
  if (digits.length < 7) return '*'.repeat(Math.max(digits.length, 4));
  return `${digits.slice(0, 3)}${'*'.repeat(digits.length - 7)}${digits.slice(-4)}`;
}

/** The first character and one star: 王强 → 王*, 欧阳娜娜 → 欧*, Alice → A*. */
export function reduceName(name: string): string {
  const first = [...name.trim()][0];
  return first === undefined ? name : `${first}*`;
}

export function hashAccount(accountNo: string, key: string): string {
  return `acct_${createHmac('sha256', key).update(accountNo, 'utf8').digest('hex').slice(0, 16)}`;
}

/** Runs of 7+ digits (phones, accounts, ID card numbers), separators inside included, masked. */
export function maskDigitRuns(text: string): string {
  return text.replace(/\+?\d(?:[\d\s-]{5,}\d)(?:[xX])?/g, (run) => {
    const digits = run.replace(/\D/g, '');
    return digits.length >= 7 ? maskPhone(run) : run;
  });
}

const ID_LIKE = /^[A-Za-z0-9._:@/-]{1,100}$/;

export function createRedactor(hashKey: string): Redactor {
  /** Every person's name the data carries in its fields, so free text naming them is reduced too. */
  const namesIn = (value: unknown, key: string | null, found: Set<string>): Set<string> => {
    if (Array.isArray(value)) for (const v of value) namesIn(v, key, found);
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (typeof v === 'string' && ((k === 'name' && !(key !== null && NOT_PERSON_KEYS.has(key))) || (k === 'by' && !ID_LIKE.test(v)))) {
          if ([...v.trim()].length >= 2) found.add(v.trim());
        } else {
          namesIn(v, k, found);
        }
      }
    }
    return found;
  };
  const freeText = (text: string, names: ReadonlySet<string>): string => {
    let out = maskDigitRuns(text);
    for (const name of names) out = out.split(name).join(reduceName(name));
    return out;
  };
  /** `key`: the field holding `value` (a person's `name` is told from a grid's by it). */
  const walk = (value: unknown, key: string | null, names: ReadonlySet<string>): unknown => {
    if (Array.isArray(value)) return value.map((v) => walk(v, key, names));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        if (DROPPED_KEYS.has(k)) continue;
        out[k] = redactField(k, v, key, names);
      }
      return out;
    }
    return value;
  };
  const redactField = (k: string, v: unknown, objectKey: string | null, names: ReadonlySet<string>): unknown => {
    if (typeof v === 'string') {
      if (PHONE_KEYS.has(k)) return maskPhone(v);
      if (k === 'accountNo') return hashAccount(v, hashKey);
      if (k === 'name') return objectKey !== null && NOT_PERSON_KEYS.has(objectKey) ? v : reduceName(v);
      if (FREE_TEXT_KEYS.has(k)) return freeText(v, names);
      if (k === 'by') return ID_LIKE.test(v) ? v : reduceName(v);
      return v;
    }
    if (typeof v === 'number' && (k === 'lon' || k === 'lat')) return Math.round(v * 100) / 100;
    if (k === 'phones' && Array.isArray(v)) return v.map((p) => (typeof p === 'string' ? maskPhone(p) : p));
    return walk(v, k, names);
  };
  return {
    redactEvent(body: string): string {
      const event = JSON.parse(body) as Record<string, unknown>;
      if (!('data' in event)) return body;
      return JSON.stringify({ ...event, data: walk(event.data, null, namesIn(event.data, null, new Set())) });
    },
  };
}
