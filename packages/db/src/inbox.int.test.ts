import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '@griddispatch/testkit';
import { createLogger } from '@griddispatch/observability';
import { applyOnce, migrate, withTransaction, type PoolClient } from './index.ts';

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
});
