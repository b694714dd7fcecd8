import { z } from 'zod';
import type { Logger } from '@griddispatch/observability';
import { retentionLockName, schemaIdent } from './identifiers.ts';
import { startPeriodic } from './periodic.ts';
import type { Pool, PoolClient } from './types.ts';

// Housekeeping: rows a service no longer needs (inbox marks, delivered notifications, timers of
// finished work orders…) are deleted in small batches, each its own short transaction, so the
// sweeper never holds many row locks or a long snapshot; one replica per schema sweeps at a time.

const DAY_MS = 86_400_000;
const LOCK_TIMEOUT_MS = 5_000;
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

function ident(name: string, what: string): string {
  if (!IDENT.test(name)) throw new Error(`invalid ${what} ${JSON.stringify(name)}: use lower-case letters, digits and _`);
  return `"${name}"`;
}

export interface RetentionRule {
  /** Table in the sweeper's schema. */
  table: string;
  /** timestamptz column: a row may go once it is older than `olderThanMs`. */
  column: string;
  olderThanMs: number;
  /**
   * What a row must also satisfy to go — how a rule keeps rows still needed (pending timers,
   * open work orders). Trusted SQL written in code, never from input; `$1` is the cutoff.
   */
  where?: string;
  /**
   * Column that names a row, for `children` (default `ctid`, the row's physical address — fine
   * for a table nothing references).
   */
  key?: string;
  /**
   * Rows in other tables of the schema that reference this one without ON DELETE CASCADE
   * (`column` holds this table's `key`): deleted in the same statement, before their parent.
   */
  children?: { table: string; column: string }[];
}

export interface RetentionOptions {
  pool: Pool;
  schema: string;
  tables: RetentionRule[];
  /** Between sweeps. Default 1 h; 0 turns the timer off (`sweep()` still works). */
  intervalMs?: number;
  /**
   * Before the first sweep. Default: a random point in the second half of the first interval,
   * so replicas restarted together do not queue on the lock and a short-lived process (a test)
   * never sweeps.
   */
  initialDelayMs?: number;
  /** Rows per delete statement. Default 1000. */
  batchSize?: number;
  /** Upper bound of one delete statement; it is cancelled past it (and retried next sweep). Default 30 s. */
  statementTimeoutMs?: number;
  /** Cutoffs are `now() - olderThanMs` by this clock. Default: the wall clock. */
  now?: () => Date;
  logger?: Logger;
}

export interface RetentionSweep {
  /** False when another replica held the sweep lock: this one deleted nothing. */
  swept: boolean;
  /** Rows deleted per table (children counted under their own table). */
  deleted: Record<string, number>;
}

export interface Retention {
  /** Runs one sweep now (waits for one in progress first). */
  sweep(): Promise<RetentionSweep>;
  /** Lets the batch in flight finish, then stops; later sweeps do nothing. */
  stop(): Promise<void>;
}

interface PreparedRule {
  table: string;
  sql: string;
  olderThanMs: number;
  children: string[];
}

function prepare(schema: string, rule: RetentionRule): PreparedRule {
  const s = schemaIdent(schema);
  if (!(rule.olderThanMs > 0)) throw new Error(`retention of ${schema}.${rule.table}: olderThanMs must be > 0`);
  const table = `${s}.${ident(rule.table, 'table')}`;
  const key = rule.key === undefined || rule.key === 'ctid' ? 'ctid' : ident(rule.key, 'key column');
  const children = rule.children ?? [];
  if (children.length > 0 && key === 'ctid') throw new Error(`retention of ${schema}.${rule.table}: children need a key column`);
  // SKIP LOCKED: a row some transaction is working on is left for the next sweep instead of
  // waited for; the lock taken here keeps its key (and ctid) stable until it is deleted.
  const doomed = `SELECT ${key} AS k FROM ${table} WHERE ${ident(rule.column, 'column')} < $1${rule.where ? ` AND (${rule.where})` : ''} LIMIT $2 FOR UPDATE SKIP LOCKED`;
  const ctes = [`doomed AS (${doomed})`];
  children.forEach((c, i) => {
    ctes.push(`c${i} AS (DELETE FROM ${s}.${ident(c.table, 'table')} WHERE ${ident(c.column, 'column')} = ANY (ARRAY(SELECT k FROM doomed)) RETURNING 1)`);
  });
  const counts = children.map((_c, i) => `(SELECT count(*) FROM c${i})::int AS c${i}`);
  const sql = `WITH ${ctes.join(', ')}, parent AS (DELETE FROM ${table} WHERE ${key} = ANY (ARRAY(SELECT k FROM doomed)) RETURNING 1)
    SELECT (SELECT count(*) FROM parent)::int AS n${counts.length ? `, ${counts.join(', ')}` : ''}`;
  return { table: rule.table, sql, olderThanMs: rule.olderThanMs, children: children.map((c) => c.table) };
}

/**
 * Starts the sweeper: every `intervalMs`, under a per-schema advisory lock, deletes each rule's
 * expired rows in batches of `batchSize` until a batch comes back short. Rules run in order, so
 * a table whose rows others reference comes after them.
 */
export function startRetention(options: RetentionOptions): Retention {
  const rules = options.tables.map((r) => prepare(options.schema, r));
  const intervalMs = options.intervalMs ?? 3_600_000;
  const batchSize = options.batchSize ?? 1000;
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  const now = options.now ?? (() => new Date());
  const log = options.logger?.child({ component: 'retention', schema: options.schema });
  let stopping = false;

  async function deleteBatch(client: PoolClient, rule: PreparedRule, cutoff: Date): Promise<Record<string, number>> {
    await client.query('BEGIN');
    try {
      await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(statementTimeoutMs))}`);
      // Never queue behind a long transaction (and make others queue behind us): give up, retry later.
      await client.query(`SET LOCAL lock_timeout = ${LOCK_TIMEOUT_MS}`);
      const { rows } = await client.query<Record<string, number>>(rule.sql, [cutoff, batchSize]);
      await client.query('COMMIT');
      const row = rows[0] ?? {};
      const out: Record<string, number> = { [rule.table]: row.n ?? 0 };
      rule.children.forEach((child, i) => (out[child] = (out[child] ?? 0) + (row[`c${i}`] ?? 0)));
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async function sweepOnce(): Promise<RetentionSweep> {
    const deleted: Record<string, number> = {};
    if (stopping) return { swept: false, deleted };
    const client = await options.pool.connect();
    let broken: Error | undefined;
    try {
      const lock = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [
        retentionLockName(options.schema),
      ]);
      if (!lock.rows[0]?.locked) return { swept: false, deleted };
      try {
        const at = now().getTime();
        for (const rule of rules) {
          const cutoff = new Date(at - rule.olderThanMs);
          for (;;) {
            if (stopping) break;
            const counts = await deleteBatch(client, rule, cutoff);
            for (const [table, n] of Object.entries(counts)) deleted[table] = (deleted[table] ?? 0) + n;
            if ((counts[rule.table] ?? 0) < batchSize) break;
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [retentionLockName(options.schema)]).catch((err: unknown) => {
          // The session lock would outlive the sweep on a pooled connection: discard it instead.
          broken = err as Error;
        });
      }
      const total = Object.values(deleted).reduce((a, b) => a + b, 0);
      if (total > 0) log?.info({ deleted }, 'retention sweep deleted expired rows');
      return { swept: true, deleted };
    } catch (err) {
      broken = err as Error;
      throw err;
    } finally {
      client.release(broken);
    }
  }

  const periodic = startPeriodic({
    label: 'retention sweep',
    run: sweepOnce,
    intervalMs,
    initialDelayMs: options.initialDelayMs ?? intervalMs / 2 + Math.random() * (intervalMs / 2),
    ...(log ? { logger: log } : {}),
  });

  return {
    sweep: () => periodic.runNow(),
    async stop() {
      stopping = true;
      await periodic.stop();
    },
  };
}

/** Retention settings every service reads from its environment. */
export const RetentionEnv = z.object({
  /** Days finished data is kept (delivered notifications, timers of closed work orders, …). */
  GD_RETENTION_DAYS: z.coerce.number().positive().default(30),
  /** Days a consumer remembers an applied event id (redeliveries inside it are recognised). */
  GD_INBOX_RETENTION_DAYS: z.coerce.number().positive().default(7),
  /** Between sweeps: `<n>ms|s|m|h`, or `off`. */
  GD_RETENTION_INTERVAL: z
    .string()
    .regex(/^(off|\d+(ms|s|m|h))$/, 'a duration like 30m or 1h, or off')
    .default('1h'),
});

export interface RetentionConfig {
  /** ms */
  keepFor: number;
  /** ms */
  inboxKeepFor: number;
  /** ms; 0 = no timed sweeps. */
  intervalMs: number;
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

export function loadRetentionConfig(env: Record<string, string | undefined> = process.env): RetentionConfig {
  const parsed = RetentionEnv.safeParse(Object.fromEntries(Object.entries(env).filter(([k, v]) => k in RetentionEnv.shape && v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`retention configuration is invalid:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const m = /^(\d+)(ms|s|m|h)$/.exec(e.GD_RETENTION_INTERVAL);
  return {
    keepFor: e.GD_RETENTION_DAYS * DAY_MS,
    inboxKeepFor: e.GD_INBOX_RETENTION_DAYS * DAY_MS,
    intervalMs: m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : 0,
  };
}

/** The inbox rule every consuming service has: event ids are remembered `inboxKeepFor`. */
export function inboxRetention(config: RetentionConfig): RetentionRule {
  return { table: 'inbox', column: 'applied_at', olderThanMs: config.inboxKeepFor };
}
