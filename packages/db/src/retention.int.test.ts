import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '@griddispatch/testkit';
import { inboxRetention, loadRetentionConfig, startRetention, type Retention, type RetentionOptions } from './index.ts';

// The sweeper against real PostgreSQL: what goes, what stays, in batches, one replica at a time.

const DAY = 86_400_000;
const NOW = new Date('2026-06-30T00:00:00Z');
const daysAgo = (n: number) => new Date(NOW.getTime() - n * DAY);

let db: FreshDatabase;
let schemas = 0;

beforeAll(async () => {
  db = await freshDatabase('db_retention');
});
afterAll(async () => {
  await db.drop();
});

/** A schema shaped like a service's: an inbox, and orders with items that reference them. */
async function newSchema(): Promise<string> {
  schemas += 1;
  const s = `ret${schemas}`;
  await db.pool.query(`
    CREATE SCHEMA ${s};
    CREATE TABLE ${s}.inbox (consumer text NOT NULL, event_id text NOT NULL, applied_at timestamptz NOT NULL, PRIMARY KEY (consumer, event_id));
    CREATE TABLE ${s}.orders (id int PRIMARY KEY, status text NOT NULL, updated_at timestamptz NOT NULL);
    CREATE TABLE ${s}.items (id serial PRIMARY KEY, order_id int NOT NULL REFERENCES ${s}.orders (id), note text);`);
  return s;
}

async function fillInbox(s: string, rows: { n: number; at: Date; from?: number }): Promise<void> {
  await db.pool.query(
    `INSERT INTO ${s}.inbox (consumer, event_id, applied_at) SELECT 'c', 'e' || g, $2 FROM generate_series($3::int, $3::int + $1::int - 1) g`,
    [rows.n, rows.at, rows.from ?? 0],
  );
}

async function count(s: string, table: string, where = 'true'): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.${table} WHERE ${where}`);
  return rows[0]!.n;
}

function sweeper(s: string, over: Partial<RetentionOptions> = {}): Retention {
  return startRetention({ pool: db.pool, schema: s, intervalMs: 0, now: () => NOW, tables: [], ...over });
}

describe('startRetention', () => {
  it('deletes rows older than the cutoff in batches and keeps the rest', async () => {
    const s = await newSchema();
    await fillInbox(s, { n: 2_350, at: daysAgo(8) });
    await fillInbox(s, { n: 40, at: daysAgo(6), from: 10_000 });
    const r = sweeper(s, { tables: [inboxRetention(loadRetentionConfig({}))], batchSize: 500 });
    const result = await r.sweep();
    expect(result).toEqual({ swept: true, deleted: { inbox: 2_350 } });
    expect(await count(s, 'inbox')).toBe(40);
    expect(await count(s, 'inbox', `applied_at < '${daysAgo(7).toISOString()}'`)).toBe(0);
    // Nothing left to do: a second sweep deletes nothing.
    expect(await r.sweep()).toEqual({ swept: true, deleted: { inbox: 0 } });
    await r.stop();
  });

  it('keeps rows the rule says are still needed, and deletes children with their parent in one statement', async () => {
    const s = await newSchema();
    await db.pool.query(
      `INSERT INTO ${s}.orders (id, status, updated_at) VALUES
         (1, 'closed', $1), (2, 'closed', $1), (3, 'open', $1), (4, 'closed', $2)`,
      [daysAgo(40), daysAgo(3)],
    );
    await db.pool.query(`INSERT INTO ${s}.items (order_id, note) SELECT o, 'x' FROM unnest(ARRAY[1, 1, 2, 3, 3, 4]) o`);
    const r = sweeper(s, {
      batchSize: 1,
      tables: [
        {
          table: 'orders',
          column: 'updated_at',
          olderThanMs: 30 * DAY,
          where: "status = 'closed'",
          key: 'id',
          children: [{ table: 'items', column: 'order_id' }],
        },
      ],
    });
    expect(await r.sweep()).toEqual({ swept: true, deleted: { orders: 2, items: 3 } });
    const { rows } = await db.pool.query<{ id: number }>(`SELECT id FROM ${s}.orders ORDER BY id`);
    expect(rows.map((o) => o.id)).toEqual([3, 4]);
    expect(await count(s, 'items')).toBe(3);
    await r.stop();
  });

  it('sweeps on one replica at a time: a sweep finding the lock taken deletes nothing', async () => {
    const s = await newSchema();
    await fillInbox(s, { n: 10, at: daysAgo(30) });
    const holder = await db.pool.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(hashtextextended('griddispatch:retention:${s}', 0))`);
      const other = sweeper(s, { tables: [inboxRetention(loadRetentionConfig({}))] });
      expect(await other.sweep()).toEqual({ swept: false, deleted: {} });
      expect(await count(s, 'inbox')).toBe(10);
      await holder.query(`SELECT pg_advisory_unlock(hashtextextended('griddispatch:retention:${s}', 0))`);
      expect((await other.sweep()).deleted).toEqual({ inbox: 10 });
      await other.stop();
    } finally {
      holder.release();
    }
  });

  it('skips rows another transaction holds instead of waiting for them', async () => {
    const s = await newSchema();
    await fillInbox(s, { n: 5, at: daysAgo(30) });
    const busy = await db.pool.connect();
    try {
      await busy.query('BEGIN');
      await busy.query(`UPDATE ${s}.inbox SET consumer = 'c' WHERE event_id = 'e0'`);
      const r = sweeper(s, { tables: [inboxRetention(loadRetentionConfig({}))] });
      const started = Date.now();
      expect((await r.sweep()).deleted).toEqual({ inbox: 4 });
      expect(Date.now() - started).toBeLessThan(2_000);
      await busy.query('COMMIT');
      expect((await r.sweep()).deleted).toEqual({ inbox: 1 });
      await r.stop();
    } finally {
      busy.release();
    }
  });

  it('sweeps by itself every interval, and stop() ends that', async () => {
    const s = await newSchema();
    await fillInbox(s, { n: 3, at: daysAgo(30) });
    const r = sweeper(s, { tables: [inboxRetention(loadRetentionConfig({}))], intervalMs: 100, initialDelayMs: 10 });
    await expect.poll(() => count(s, 'inbox'), { timeout: 5_000 }).toBe(0);
    await fillInbox(s, { n: 3, at: daysAgo(30), from: 100 });
    await expect.poll(() => count(s, 'inbox'), { timeout: 5_000 }).toBe(0);
    await r.stop();
    await fillInbox(s, { n: 3, at: daysAgo(30), from: 200 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await count(s, 'inbox')).toBe(3);
    // The pool got every connection back (no session lock left behind on one).
    expect(db.pool.totalCount - db.pool.idleCount).toBe(0);
  });

  it('refuses rules that would interpolate something other than an identifier', () => {
    expect(() =>
      startRetention({ pool: db.pool, schema: 'ret1', intervalMs: 0, tables: [{ table: 'inbox; DROP TABLE x', column: 'applied_at', olderThanMs: DAY }] }),
    ).toThrow(/invalid table/);
    expect(() =>
      startRetention({
        pool: db.pool,
        schema: 'ret1',
        intervalMs: 0,
        tables: [{ table: 'orders', column: 'updated_at', olderThanMs: DAY, children: [{ table: 'items', column: 'order_id' }] }],
      }),
    ).toThrow(/children need a key/);
  });
});

describe('loadRetentionConfig', () => {
  it('defaults to 30 days, 7 for the inbox, hourly; reads the environment', () => {
    expect(loadRetentionConfig({})).toEqual({ keepFor: 30 * DAY, inboxKeepFor: 7 * DAY, intervalMs: 3_600_000 });
    expect(loadRetentionConfig({ GD_RETENTION_DAYS: '90', GD_INBOX_RETENTION_DAYS: '14', GD_RETENTION_INTERVAL: '15m' })).toEqual({
      keepFor: 90 * DAY,
      inboxKeepFor: 14 * DAY,
      intervalMs: 900_000,
    });
    expect(loadRetentionConfig({ GD_RETENTION_INTERVAL: 'off' }).intervalMs).toBe(0);
    expect(() => loadRetentionConfig({ GD_RETENTION_DAYS: '-1' })).toThrow(/GD_RETENTION_DAYS/);
    expect(() => loadRetentionConfig({ GD_RETENTION_INTERVAL: 'hourly' })).toThrow(/GD_RETENTION_INTERVAL/);
  });
});
