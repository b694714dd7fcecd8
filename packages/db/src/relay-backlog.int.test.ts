import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, waitForIdle, type Bus, type OutgoingMessage } from '@griddispatch/bus';
import { createLogger } from '@griddispatch/observability';
import { freshDatabase, uniqueSuffix, type FreshDatabase } from '@griddispatch/testkit';
import { enqueueOutbox, migrate, startRelay, withTransaction, type OutboxRecord, type Relay } from './index.ts';
import { RecordingBus, waitFor, type Published } from './test-fixtures/recording-bus.ts';

// Issue 12, item 4: a storm's backlog leaves the outbox in a few large batches, one DELETE each,
// in order per key — also when a transaction with a lower id commits while the relay is busy.

const logger = createLogger({ service: 'db-test', level: 'silent' });
const BACKLOG = 20_000;

let db: FreshDatabase;
let emptyFolder: string;
let schemaCount = 0;
const relays: Relay[] = [];
const buses: Bus[] = [];

beforeAll(async () => {
  db = await freshDatabase('db_relay_backlog');
  emptyFolder = await mkdtemp(join(tmpdir(), 'gd-relay-'));
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop()));
});

afterAll(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
  await db.drop();
  await rm(emptyFolder, { recursive: true, force: true });
});

/**
 * A service schema whose outbox logs every DELETE statement with the rows it removed, so a test
 * sees how many round trips the relay really made.
 */
async function newSchema(): Promise<string> {
  schemaCount += 1;
  const schema = `backlog${schemaCount}`;
  await migrate(db.pool, { schema, folder: emptyFolder, logger });
  await db.pool.query(`
    CREATE TABLE ${schema}.outbox_deletes (n serial PRIMARY KEY, rows int NOT NULL);
    CREATE FUNCTION ${schema}.log_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO ${schema}.outbox_deletes (rows) SELECT count(*) FROM gone; RETURN NULL; END $$;
    CREATE TRIGGER log_delete AFTER DELETE ON ${schema}.outbox REFERENCING OLD TABLE AS gone
      FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.log_delete();`);
  return schema;
}

async function deleteStatements(schema: string): Promise<number[]> {
  return (await db.pool.query<{ rows: number }>(`SELECT rows FROM ${schema}.outbox_deletes ORDER BY n`)).rows.map((r) => r.rows);
}

const KEYS = Array.from({ length: 40 }, (_, i) => `wo-${i}`);
const HOT_KEYS = KEYS.slice(0, 4);

/** `count` records round-robin over `keys` and two topics; each value is `<key>:<seq of that key>`. */
async function writeBacklog(schema: string, count: number, { keys = KEYS, valuePadding = '' } = {}): Promise<void> {
  const seq = new Map<string, number>();
  const perTransaction = 1000;
  for (let tx = 0; tx < count / perTransaction; tx++) {
    const records: OutboxRecord[] = Array.from({ length: perTransaction }, (_, i) => {
      const key = keys[(tx * perTransaction + i) % keys.length] as string;
      const n = (seq.get(key) ?? 0) + 1;
      seq.set(key, n);
      return {
        topic: KEYS.indexOf(key) % 2 ? 'dispatch.assigned' : 'workorders.events',
        key,
        value: `${key}:${n}${valuePadding}`,
        headers: { 'ce-id': `${key}-${n}` },
      };
    });
    await withTransaction(db.pool, (client) => enqueueOutbox(client, schema, records));
  }
}

function sequencesByKey(published: { key: string | null; value: string }[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const p of published) {
    const seqs = out.get(String(p.key)) ?? [];
    seqs.push(Number(p.value.split(':')[1]));
    out.set(String(p.key), seqs);
  }
  return out;
}

function expectEachKeyInOrderOnce(published: { key: string | null; value: string }[], perKey: number, keys = KEYS): void {
  const expected = Array.from({ length: perKey }, (_, i) => i + 1);
  const byKey = sequencesByKey(published);
  expect([...byKey.keys()].sort()).toEqual([...keys].sort());
  for (const key of keys) expect(byKey.get(key), key).toEqual(expected);
}

describe('outbox relay under a backlog', () => {
  it(`publishes ${BACKLOG.toLocaleString('en')} rows in order per key in four batches, one DELETE each`, async () => {
    const schema = await newSchema();
    await writeBacklog(schema, BACKLOG);
    const bus = new RecordingBus();
    bus.delayMs = () => 20; // a broker round trip, so reads and deletes overlap publishes
    const relay = startRelay({ pool: db.pool, schema, bus, logger });
    relays.push(relay);
    await relay.drained();

    expect(bus.published).toHaveLength(BACKLOG);
    expectEachKeyInOrderOnce(
      bus.published.map((p) => ({ key: p.key, value: String(p.value) })),
      BACKLOG / KEYS.length,
    );
    expect(await deleteStatements(schema)).toEqual([5000, 5000, 5000, 5000]);
    expect(bus.attempts).toBe(8); // four batches, two topics each
  });

  it('keeps per-key order when a transaction with a lower id commits while batches are in flight', async () => {
    const schema = await newSchema();
    // This transaction takes the lowest id and commits only after the relay is under way.
    const late = await db.pool.connect();
    await late.query('BEGIN');
    await enqueueOutbox(late, schema, [{ topic: 'workorders.events', key: 'late', value: 'late:1' }]);
    await writeBacklog(schema, 12_000);

    let releaseFirst: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const published: Published[] = [];
    let calls = 0;
    const bus = {
      async publish(topic: string, messages: OutgoingMessage[]) {
        calls += 1;
        if (calls === 1) await firstHeld;
        for (const m of messages) published.push({ topic, ...m });
      },
    };
    const relay = startRelay({ pool: db.pool, schema, bus, logger, batchSize: 4000 });
    relays.push(relay);
    await waitFor(() => calls > 0, 10_000, 'the first batch to be published');
    // Batch 1 (ids 2…4001) is out and batch 2 being read without the uncommitted id 1; now it
    // commits, and a later event of the same work order after it.
    await late.query('COMMIT');
    late.release();
    await withTransaction(db.pool, (client) => enqueueOutbox(client, schema, [{ topic: 'workorders.events', key: 'late', value: 'late:2' }]));
    releaseFirst();
    await relay.drained();

    expect(published).toHaveLength(12_002);
    expect(published.filter((p) => p.key === 'late').map((p) => p.value)).toEqual(['late:1', 'late:2']);
    expectEachKeyInOrderOnce(
      published.filter((p) => p.key !== 'late').map((p) => ({ key: p.key, value: String(p.value) })),
      12_000 / KEYS.length,
    );
  });

  it('puts a storm backlog on hot keys through Kafka within its request limits, in order per key', async () => {
    const brokers = process.env.KAFKA_BROKERS;
    if (!brokers) throw new Error('KAFKA_BROKERS is not set (the vitest global setup provides it)');
    const prefix = `test.${uniqueSuffix()}.`;
    const kafka = createKafkaBus({ brokers, prefix, clientId: 'relay-backlog', logger });
    buses.push(kafka);
    const schema = await newSchema();
    // 20,000 records of ~1 KB on four work orders: a batch puts 1,250 records (1.3 MB) on each
    // key's partition, over a broker's 1 MiB record-batch limit if a batch went out in one request.
    await writeBacklog(schema, BACKLOG, { keys: HOT_KEYS, valuePadding: `:${'p'.repeat(1000)}` });
    const relay = startRelay({ pool: db.pool, schema, bus: kafka, logger });
    relays.push(relay);
    await relay.drained();
    expect(await deleteStatements(schema)).toEqual([5000, 5000, 5000, 5000]);

    const received: { key: string | null; value: string }[] = [];
    const subscription = await kafka.subscribe({
      groupId: `relay-backlog-${uniqueSuffix()}`,
      topics: ['workorders.events', 'dispatch.assigned'],
      fromBeginning: true,
      handler: async (message) => {
        received.push({ key: message.key, value: message.value.toString() });
      },
    });
    await waitFor(() => received.length >= BACKLOG, 90_000, 'every record to be consumed');
    await waitForIdle(kafka, { timeoutMs: 30_000 });
    await subscription.stop();
    expect(received).toHaveLength(BACKLOG);
    expectEachKeyInOrderOnce(received, BACKLOG / HOT_KEYS.length, HOT_KEYS);
  });
});
