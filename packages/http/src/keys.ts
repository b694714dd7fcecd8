import { createHmac, randomBytes } from 'node:crypto';

// The key format of GD_API_KEYS and what a secret must be. Pure: no database, no clock.

export const SCOPES = [
  'requests:write',
  'requests:read',
  'workorders:write',
  'subscriptions:write',
  'inbound:write',
  'pii:read',
  'metrics:read',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKeySpec {
  name: string;
  secret: string;
  scopes: Scope[];
  /** The `source` values the key may post; absent: any source. */
  sources?: string[];
  /** Requests per minute for this key; absent: the host's default (GD_RATE_LIMIT_MAX). */
  ratePerMinute?: number;
  /**
   * The grids whose requests, work orders, incidents and events the key may see (an area grid
   * includes the grids under it); absent: every grid.
   */
  grids?: string[];
}

export const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SOURCE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const RATE = /^(\d{1,9})\/min$/;
/** Grid ids as the grid files give them (`HH-3`, `TC-07`); at most 500 in one key. */
const GRID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const GRIDS = 'grids=';
const MAX_GRIDS = 500;
/** The embedded start's development key: allowed only there, bound to 127.0.0.1 (commands/start.ts). */
export const DEV_SECRET = 'dev-secret';
/** Secrets are random: 128 bits is 22 base64url characters or 32 hexadecimal ones. */
export const MIN_SECRET_BITS = 128;

const BY_LENGTH = [...SCOPES].sort((a, b) => b.length - a.length);

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/**
 * What a secret can hold at most, by the alphabet it draws from: hexadecimal 4 bits a
 * character, base64url 6, anything else 6.5. Repetition betrays a human choice
 * (`aaaa…`, `1111…`), so a secret also needs at least 10 distinct characters. This cannot
 * prove randomness; it refuses what is certainly not random enough.
 */
export function secretStrengthProblem(secret: string): string | null {
  if (secret.includes(',') || /\s/.test(secret)) return 'must not contain commas or spaces';
  const bitsPerChar = /^[0-9a-fA-F]+$/.test(secret) ? 4 : /^[A-Za-z0-9_-]+$/.test(secret) ? 6 : 6.5;
  const bits = Math.floor(secret.length * bitsPerChar);
  if (bits < MIN_SECRET_BITS) {
    return `is too short: ${secret.length} characters hold at most ${bits} bits; at least ${MIN_SECRET_BITS} are needed (22 base64url or 32 hexadecimal random characters; \`griddispatch keys create\` or \`openssl rand -hex 16\` makes one)`;
  }
  if (new Set(secret).size < 10) return 'repeats too few characters (fewer than 10 distinct) to be random';
  return null;
}

export interface ParseOptions {
  /** Accept the development secret `dev-secret` (the embedded start on 127.0.0.1 only). */
  allowDevSecret?: boolean;
}

type KeyGrants = Pick<ApiKeySpec, 'scopes' | 'sources' | 'ratePerMinute' | 'grids'>;

function parseGrids(segment: string, spec: KeyGrants, where: string): void {
  if (spec.grids !== undefined) throw new Error(`${where}: two grid lists`);
  const grids = segment.slice(GRIDS.length).split('+');
  for (const g of grids) if (!GRID.test(g)) throw new Error(`${where}: bad grid id "${g}" in ${GRIDS} (letters, digits, _ . -; e.g. grids=HH-1+HH-2)`);
  if (grids.length > MAX_GRIDS) throw new Error(`${where}: more than ${MAX_GRIDS} grids; give the area grid instead (it includes the grids under it)`);
  spec.grids = [...new Set(grids)];
}

/**
 * Splits what follows the secret: `scope+scope[:source+source][:grids=g+g][:N/min]`. Scopes
 * contain a colon themselves (`requests:write`), so they are read as known words, not by splitting.
 */
function parseRest(rest: string, where: string): KeyGrants {
  const scopes: Scope[] = [];
  let i = 0;
  for (;;) {
    // A known scope followed by `+`, `:` or the end (`admin:open311` is admin, then a source).
    const known = BY_LENGTH.find((s) => rest.startsWith(s, i) && (i + s.length === rest.length || '+:'.includes(rest[i + s.length]!)));
    if (!known) {
      const token = /^[^+:]*(?::[a-z]+)?/.exec(rest.slice(i))?.[0] ?? '';
      throw new Error(`${where}: unknown scope "${token}" (known: ${SCOPES.join(', ')})`);
    }
    scopes.push(known);
    i += known.length;
    if (rest[i] !== '+') break;
    i += 1;
  }
  const spec: KeyGrants = { scopes };
  if (i === rest.length) return spec;
  if (rest[i] !== ':') throw new Error(`${where}: unexpected "${rest.slice(i)}" after the scopes`);
  for (const segment of rest.slice(i + 1).split(':')) {
    const rate = RATE.exec(segment);
    if (rate) {
      if (spec.ratePerMinute !== undefined) throw new Error(`${where}: two rate limits`);
      spec.ratePerMinute = Number(rate[1]);
      if (spec.ratePerMinute < 1) throw new Error(`${where}: rate limit must be at least 1/min`);
      continue;
    }
    if (segment.startsWith(GRIDS)) {
      parseGrids(segment, spec, where);
      continue;
    }
    if (spec.sources !== undefined)
      throw new Error(`${where}: unexpected "${segment}" (sources were given already; a rate limit is written N/min, grids grids=g+g)`);
    const sources = segment.split('+');
    for (const s of sources) if (!SOURCE.test(s)) throw new Error(`${where}: bad source "${s}" (letters, digits, _ . -)`);
    spec.sources = sources;
  }
  return spec;
}

/**
 * Parses `GD_API_KEYS`: `name:secret:scope+scope[:source+source][:grids=g+g][:N/min],…` (secrets without
 * `:`); throws naming the bad entry, and the key, so a process refuses to start on it.
 */
export function parseApiKeys(spec: string | undefined, options: ParseOptions = {}): ApiKeySpec[] {
  if (!spec || spec.trim() === '') return [];
  const names = new Set<string>();
  const secrets = new Map<string, string>();
  return spec
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const first = entry.indexOf(':');
      const second = entry.indexOf(':', first + 1);
      if (first <= 0 || second < 0) throw new Error(`GD_API_KEYS entry ${i + 1}: expected name:secret:scope+scope[:source+source][:grids=g+g][:N/min]`);
      const name = entry.slice(0, first);
      const secret = entry.slice(first + 1, second);
      const where = `GD_API_KEYS entry ${i + 1} (${name})`;
      if (!KEY_NAME.test(name)) throw new Error(`GD_API_KEYS entry ${i + 1}: bad key name "${name}"`);
      if (names.has(name)) throw new Error(`${where}: the name is listed twice`);
      names.add(name);
      const twin = secrets.get(secret);
      if (twin !== undefined) throw new Error(`${where}: the secret is also the secret of "${twin}"; every key needs its own`);
      secrets.set(secret, name);
      const weak = options.allowDevSecret && secret === DEV_SECRET ? null : secretStrengthProblem(secret);
      if (weak) throw new Error(`${where}: the secret ${weak}`);
      return { name, secret, ...parseRest(entry.slice(second + 1), where) };
    });
}

/** A new secret: `gdk_` + 32 random bytes, base64url (256 bits). */
export function generateApiKeySecret(): string {
  return `gdk_${randomBytes(32).toString('base64url')}`;
}

/**
 * What is stored of a secret: HMAC-SHA256 under the server-side pepper. A copy of the table
 * alone (a backup, a replica) then neither reveals a key nor lets one be checked offline.
 */
export function hashApiKey(pepper: string, secret: string): string {
  return createHmac('sha256', pepper).update(secret, 'utf8').digest('hex');
}

/** Stored beside the hashes, so a process with another pepper is noticed (key-store.ts). */
export function pepperFingerprint(pepper: string): string {
  return createHmac('sha256', pepper).update('griddispatch key pepper fingerprint', 'utf8').digest('hex').slice(0, 16);
}

export function generatePepper(): string {
  return randomBytes(32).toString('base64url');
}
