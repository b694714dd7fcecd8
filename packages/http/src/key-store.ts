import type { Pool, PoolClient } from 'pg';
import type { Logger } from '@griddispatch/observability';
import { generateApiKeySecret, generatePepper, hashApiKey, isScope, KEY_NAME, pepperFingerprint, type ApiKeySpec, type Scope } from './keys.ts';

export interface Principal {
  /** Name of the API key (the calling system), e.g. `sgcc-95598`. */
  keyName: string;
  scopes: ReadonlySet<Scope>;
  /** The `source` values this key may post; null: any. */
  sources: ReadonlySet<string> | null;
  /** Requests per minute of this key; null: the host's default. */
  ratePerMinute: number | null;
  /** The grids the key may see (and the grids under them); null: every grid. */
  grids: readonly string[] | null;
}

const PEPPER = 'key_pepper';
const FINGERPRINT = 'key_pepper_fingerprint';

async function setting(db: Pool | PoolClient, name: string): Promise<string | undefined> {
  return (await db.query<{ value: string }>('SELECT value FROM auth.settings WHERE name = $1', [name])).rows[0]?.value;
}

/**
 * The pepper keys are hashed with. `GD_KEY_PEPPER` when given (required by the distributed
 * processes: the secret then lives outside the database); otherwise (embedded start, tests) one
 * generated at first use and kept in `auth.settings`, so every process on the database agrees.
 * Either way its fingerprint is stored, and a process whose pepper differs refuses to start
 * instead of silently locking out every key made by `griddispatch keys create`.
 */
export async function resolveKeyPepper(pool: Pool, configured: string | undefined): Promise<string> {
  if (configured !== undefined && configured.length < 32) throw new Error('GD_KEY_PEPPER must be at least 32 characters (e.g. `openssl rand -base64 32`)');
  let pepper = configured;
  if (pepper === undefined) {
    await pool.query('INSERT INTO auth.settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [PEPPER, generatePepper()]);
    pepper = (await setting(pool, PEPPER))!;
  }
  const fingerprint = pepperFingerprint(pepper);
  await pool.query('INSERT INTO auth.settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [FINGERPRINT, fingerprint]);
  const stored = await setting(pool, FINGERPRINT);
  if (stored !== fingerprint) {
    throw new Error(
      `${configured === undefined ? 'the generated key pepper (auth.settings)' : 'GD_KEY_PEPPER'} differs from the pepper the stored API keys were hashed with; ` +
        "start every process with the same GD_KEY_PEPPER (to change it on purpose: DELETE FROM auth.settings WHERE name = 'key_pepper_fingerprint', then re-create the keys made by `griddispatch keys create`)",
    );
  }
  return pepper;
}

export interface KeySyncResult {
  /** Listed keys that stay revoked: `griddispatch keys revoke` revoked that very secret. */
  stillRevoked: string[];
  /** Keys revoked now because GD_API_KEYS no longer lists them. */
  removed: string[];
}

/**
 * Applies GD_API_KEYS as the whole list of environment keys, in one transaction (replicas
 * starting together apply it one after the other). The rules:
 * - a listed key is created, or updated (secret, scopes, sources, grids, rate);
 * - an environment key no longer listed is revoked (`removed`); listing it again restores it;
 * - a key revoked by `griddispatch keys revoke` stays revoked while GD_API_KEYS carries the same
 *   secret: a restart never brings a revoked secret back. A new secret under the name is a new key;
 * - keys made by `griddispatch keys create` are not in GD_API_KEYS and are left alone, unless
 *   GD_API_KEYS lists their name: then the environment takes the name over.
 */
export async function syncApiKeys(pool: Pool, pepper: string, keys: ApiKeySpec[]): Promise<KeySyncResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('griddispatch.auth.keys', 0))");
    // Removed first: a secret moving to a new name must not collide with its old, active row.
    const removed = await client.query<{ name: string }>(
      `UPDATE auth.api_keys SET revoked_at = now(), revoked_by = 'removed', updated_at = now()
       WHERE origin = 'env' AND revoked_at IS NULL AND NOT (name = ANY($1::text[])) RETURNING name`,
      [keys.map((k) => k.name)],
    );
    const revokedByCli = new Set(
      (await client.query<{ key_hash: string }>("SELECT key_hash FROM auth.api_keys WHERE revoked_by = 'cli'")).rows.map((r) => r.key_hash),
    );
    const stillRevoked: string[] = [];
    for (const key of keys) {
      const hash = hashApiKey(pepper, key.secret);
      // Whatever name it is listed under, a secret an operator revoked stays revoked.
      const keepRevoked = revokedByCli.has(hash);
      if (keepRevoked) stillRevoked.push(key.name);
      await client.query(
        `INSERT INTO auth.api_keys (name, key_hash, scopes, sources, rate_limit, origin, revoked_at, revoked_by, grids)
         VALUES ($1, $2, $3, $4, $5, 'env', CASE WHEN $6 THEN now() END, CASE WHEN $6 THEN 'cli' END, $7)
         ON CONFLICT (name) DO UPDATE SET key_hash = EXCLUDED.key_hash, scopes = EXCLUDED.scopes, sources = EXCLUDED.sources,
           rate_limit = EXCLUDED.rate_limit, grids = EXCLUDED.grids, origin = 'env', updated_at = now(),
           revoked_at = CASE WHEN $6 THEN coalesce(auth.api_keys.revoked_at, now()) END,
           revoked_by = CASE WHEN $6 THEN 'cli' END`,
        [key.name, hash, key.scopes, key.sources ?? null, key.ratePerMinute ?? null, keepRevoked, key.grids ?? null],
      );
    }
    await client.query('COMMIT');
    return { stillRevoked, removed: removed.rows.map((r) => r.name).sort() };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export interface NewKeyOptions {
  scopes: Scope[];
  sources?: string[];
  ratePerMinute?: number;
  grids?: string[];
}

/** `griddispatch keys create`: a new key kept in the database; the secret is returned once, only its HMAC is kept. */
export async function createApiKey(pool: Pool, pepper: string, name: string, options: NewKeyOptions): Promise<{ name: string; secret: string }> {
  if (!KEY_NAME.test(name)) throw new Error(`bad key name "${name}" (letters, digits, _ . -; at most 64)`);
  if (options.scopes.length === 0) throw new Error('a key needs at least one scope');
  const secret = generateApiKeySecret();
  const res = await pool.query(
    `INSERT INTO auth.api_keys (name, key_hash, scopes, sources, rate_limit, origin, grids) VALUES ($1, $2, $3, $4, $5, 'cli', $6)
     ON CONFLICT (name) DO UPDATE SET key_hash = EXCLUDED.key_hash, scopes = EXCLUDED.scopes, sources = EXCLUDED.sources,
       rate_limit = EXCLUDED.rate_limit, grids = EXCLUDED.grids, updated_at = now(), revoked_at = NULL, revoked_by = NULL
     WHERE auth.api_keys.origin = 'cli' AND auth.api_keys.revoked_at IS NOT NULL`,
    [name, hashApiKey(pepper, secret), options.scopes, options.sources ?? null, options.ratePerMinute ?? null, options.grids ?? null],
  );
  if (res.rowCount === 0)
    throw new Error(`a key named "${name}" exists already (revoke it first, or choose another name; keys listed in GD_API_KEYS are managed there)`);
  return { name, secret };
}

/** `griddispatch keys revoke`: sticks across restarts (see syncApiKeys). */
export async function revokeApiKey(pool: Pool, name: string): Promise<boolean> {
  const res = await pool.query("UPDATE auth.api_keys SET revoked_at = now(), revoked_by = 'cli', updated_at = now() WHERE name = $1 AND revoked_at IS NULL", [
    name,
  ]);
  return (res.rowCount ?? 0) > 0;
}

export interface ApiKeyRow {
  name: string;
  scopes: string[];
  sources: string[] | null;
  grids: string[] | null;
  ratePerMinute: number | null;
  origin: 'env' | 'cli';
  createdAt: Date;
  revokedAt: Date | null;
  revokedBy: 'removed' | 'cli' | null;
}

export async function listApiKeys(pool: Pool): Promise<ApiKeyRow[]> {
  const res = await pool.query<ApiKeyRow>(
    `SELECT name, scopes, sources, grids, rate_limit AS "ratePerMinute", origin, created_at AS "createdAt", revoked_at AS "revokedAt", revoked_by AS "revokedBy"
     FROM auth.api_keys ORDER BY name`,
  );
  return res.rows;
}

/**
 * The active keys that carry allowed grids, by name: what a service that stores things per key
 * (notification's subscriptions) narrows at start. Empty where no host migrated `auth` yet.
 */
export async function keyGridLimits(pool: Pool): Promise<Map<string, string[]>> {
  const res = await pool
    .query<{ name: string; grids: string[] }>(`SELECT name, grids FROM auth.api_keys WHERE revoked_at IS NULL AND grids IS NOT NULL`)
    .catch((err: { code?: string }) => {
      // 42P01: undefined table (a service started on a database no host has migrated yet).
      if (err.code === '42P01' || err.code === '3F000') return { rows: [] };
      throw err;
    });
  return new Map(res.rows.map((r) => [r.name, r.grids]));
}

interface CacheEntry {
  principal: Principal;
  expires: number;
}

/**
 * Looks keys up by HMAC. Only keys that exist are cached (for `ttlMs`, so a revoked key stops
 * working within it): a stream of junk keys never evicts the real ones, and what junk costs the
 * database is bounded by the failed-authentication limiter that runs before the lookup.
 */
export class ApiKeyStore {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly pool: Pool,
    private readonly pepper: string,
    private readonly ttlMs = 10_000,
    private readonly maxEntries = 10_000,
    private readonly logger?: Logger,
  ) {}

  hash(secret: string): string {
    return hashApiKey(this.pepper, secret);
  }

  /** A cached principal, without touching the database; undefined when not cached. */
  cached(hash: string): Principal | undefined {
    const hit = this.cache.get(hash);
    if (!hit) return undefined;
    if (hit.expires > Date.now()) return hit.principal;
    this.cache.delete(hash);
    return undefined;
  }

  async lookup(hash: string): Promise<Principal | null> {
    const hit = this.cached(hash);
    if (hit) return hit;
    const res = await this.pool.query<{ name: string; scopes: string[]; sources: string[] | null; rate_limit: number | null; grids: string[] | null }>(
      'SELECT name, scopes, sources, rate_limit, grids FROM auth.api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    const row = res.rows[0];
    if (!row) return null;
    const principal: Principal = {
      keyName: row.name,
      scopes: new Set(row.scopes.filter(isScope)),
      sources: row.sources ? new Set(row.sources) : null,
      ratePerMinute: row.rate_limit,
      grids: row.grids,
    };
    // Oldest first out: Map iteration follows insertion order.
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(hash, { principal, expires: Date.now() + this.ttlMs });
    return principal;
  }

  /** The active key of that name (stream tokens name their key). */
  async byName(name: string): Promise<Principal | null> {
    const res = await this.pool.query<{ key_hash: string }>('SELECT key_hash FROM auth.api_keys WHERE name = $1 AND revoked_at IS NULL', [name]);
    const row = res.rows[0];
    if (!row) {
      this.logger?.debug({ key: name }, 'stream token of a revoked or unknown key');
      return null;
    }
    return this.lookup(row.key_hash);
  }

  invalidate(): void {
    this.cache.clear();
  }
}
