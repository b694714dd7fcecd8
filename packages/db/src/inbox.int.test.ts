import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '@griddispatch/testkit';
import { createLogger } from '@griddispatch/observability';
import type { IncomingMessage } from '@griddispatch/bus';
import { applyOnce, inboxConsumer, migrate, withTransaction, type PoolClient } from './index.ts';

const logger = createLogger({ service: 'db-test', level: 'silent' });
let db: FreshDatabase;
let folder: string;

beforeAll(async () => {
  db = await freshDatabase('db_inbox');
  folder = await mkdtemp(join(tmpdir(), 'gd-inbox-'));
  await migrate(db.pool, { schema: 'consumer_svc', folder, logger });
  await db.pool.query('CREATE TABLE consumer_svc.balances (account text PRIMARY KEY, amount integer NOT NULL)');
  await db.pool.query("INSERT INTO consumer_svc.balances VALUES ('acc-1', 0)");
});

afterAll(async () => {
  await db.drop();
  await rm(folder, { recursive: true, force: true });
});

/** A consumer whose effect is not idempotent by itself: only the inbox keeps it exactly-once. */
async function handleCredit(eventId: string, amount: number, fail = false): Promise<boolean> {
  return withTransaction(db.pool, async (client: PoolClient) => {
    if (!(await applyOnce(client, 'consumer_svc', 'balance-projector', eventId))) return false;
    await client.query("UPDATE consumer_svc.balances SET amount = amount + $1 WHERE account = 'acc-1'", [amount]);
    if (fail) throw new Error('handler failed after its effect');
    return true;
  });
}

async function balance(): Promise<number> {
  return (await db.pool.query<{ amount: number }>("SELECT amount FROM consumer_svc.balances WHERE account = 'acc-1'")).rows[0]!.amount;
}

async function inboxRows(eventId: string): Promise<number> {
  return (await db.pool.query('SELECT 1 FROM consumer_svc.inbox WHERE event_id = $1', [eventId])).rowCount ?? 0;
}

describe('inbox', () => {
  it('applyOnce is true the first time and false after, per consumer', async () => {
    await withTransaction(db.pool, async (client) => {
      expect(await applyOnce(client, 'consumer_svc', 'a', 'evt-1')).toBe(true);
      expect(await applyOnce(client, 'consumer_svc', 'a', 'evt-1')).toBe(false);
      expect(await applyOnce(client, 'consumer_svc', 'b', 'evt-1')).toBe(true);
    });
    await withTransaction(db.pool, async (client) => {
      expect(await applyOnce(client, 'consumer_svc', 'a', 'evt-1')).toBe(false);
    });
  });

  it('stores the event id with the effect: a failed handler leaves neither, a redelivery applies once', async () => {
    await expect(handleCredit('evt-credit', 10, true)).rejects.toThrow('handler failed');
    expect(await balance()).toBe(0);
    expect(await inboxRows('evt-credit')).toBe(0);

    expect(await handleCredit('evt-credit', 10)).toBe(true); // the retry
    expect(await handleCredit('evt-credit', 10)).toBe(false); // a duplicate delivery
    expect(await balance()).toBe(10);
    expect(await inboxRows('evt-credit')).toBe(1);
  });

  it('applies concurrent duplicate deliveries once', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => handleCredit('evt-race', 5)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await balance()).toBe(15);
  });

  describe('inboxConsumer', () => {
    const message = (id: string, amount: number, offset: number, partition = 0): IncomingMessage => ({
      topic: 'credits',
      key: 'acc-1',
      value: Buffer.from(JSON.stringify({ id, amount })),
      headers: {},
      partition,
      offset: String(offset),
      attempt: 1,
    });
    /** The transaction each event was applied in. */
    const transactions = new Map<string, string>();
    function creditConsumer(onApplied: (ids: string[]) => void = () => undefined) {
      return inboxConsumer({
        pool: db.pool,
        schema: 'consumer_svc',
        consumer: 'batch-projector',
        spanName: 'credit',
        parse: (m) => JSON.parse(m.value.toString()) as { id: string; amount: number },
        async apply(client, event) {
          if (event.amount < 0) throw new Error('a negative credit');
          await client.query("UPDATE consumer_svc.balances SET amount = amount + $1 WHERE account = 'acc-1'", [event.amount]);
          const { rows } = await client.query<{ tx: string }>('SELECT txid_current()::text AS tx');
          transactions.set(event.id, rows[0]!.tx);
          return event.id;
        },
        applied: (results) => onApplied(results.map((r) => r.result)),
      });
    }

    it('applies a batch in one transaction: each new event once, a repeat within the batch or a redelivery not at all', async () => {
      const before = await balance();
      const applied: string[][] = [];
      const consumer = creditConsumer((ids) => applied.push(ids));
      await consumer.batchHandler([message('b-1', 1, 0), message('b-2', 2, 1), message('b-1', 1, 2), message('b-3', 4, 3)]);
      expect(await balance()).toBe(before + 7);
      await consumer.batchHandler([message('b-3', 4, 3), message('b-4', 8, 4)]);
      await consumer.handler(message('b-2', 2, 1));
      expect(await balance()).toBe(before + 15);
      expect(applied).toEqual([['b-1', 'b-2', 'b-3'], ['b-4'], []]);
    });

    it('leaves nothing of a batch whose effect fails: neither effects nor inbox marks', async () => {
      const before = await balance();
      const consumer = creditConsumer();
      await expect(consumer.batchHandler([message('c-1', 1, 0), message('c-2', -1, 1)])).rejects.toThrow('a negative credit');
      expect(await balance()).toBe(before);
      expect(await inboxRows('c-1')).toBe(0);
      // The bus then applies the records one by one: the good one lands, the bad one fails alone.
      await consumer.handler(message('c-1', 1, 0));
      await expect(consumer.handler(message('c-2', -1, 1))).rejects.toThrow('a negative credit');
      expect(await balance()).toBe(before + 1);
    });

    it('applies the batches of several partitions handed over together in one transaction', async () => {
      const before = await balance();
      const applied: string[][] = [];
      const consumer = creditConsumer((ids) => applied.push(ids));
      await Promise.all([
        consumer.batchHandler([message('p0-1', 1, 0, 0), message('p0-2', 2, 1, 0)]),
        consumer.batchHandler([message('p1-1', 4, 0, 1)]),
        consumer.batchHandler([message('p2-1', 8, 0, 2)]),
      ]);
      expect(await balance()).toBe(before + 15);
      expect(new Set(['p0-1', 'p0-2', 'p1-1', 'p2-1'].map((id) => transactions.get(id))).size).toBe(1);
      expect(applied).toEqual([['p0-1', 'p0-2', 'p1-1', 'p2-1']]);
    });

    it('when the shared transaction fails, commits the good batches alone and fails only the bad one', async () => {
      const before = await balance();
      const consumer = creditConsumer();
      const outcomes = await Promise.allSettled([
        consumer.batchHandler([message('q0-1', 1, 0, 0)]),
        consumer.batchHandler([message('q1-1', 2, 0, 1), message('q1-2', -1, 1, 1)]),
        consumer.batchHandler([message('q2-1', 4, 0, 2)]),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(await balance()).toBe(before + 5);
      expect(await inboxRows('q1-1')).toBe(0);
      expect(transactions.get('q0-1')).not.toBe(transactions.get('q2-1'));
    });
  });
});
