import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '@griddispatch/testkit';
import type { OutgoingMessage } from '@griddispatch/bus';
import { createLogger } from '@griddispatch/observability';
import { createPool, enqueueOutbox, migrate, startRelay, withTransaction, type OutboxRecord, type Pool, type Relay, type RelayOptions } from './index.ts';
import { RecordingBus, waitFor, type Published } from './test-fixtures/recording-bus.ts';

const logger = createLogger({ service: 'db-test', level: 'silent' });

let db: FreshDatabase;
let emptyFolder: string;
let schemaCount = 0;
const relays: Relay[] = [];
const pools: Pool[] = [];

beforeAll(async () => {
  db = await freshDatabase('db_outbox');
  emptyFolder = await mkdtemp(join(tmpdir(), 'gd-outbox-'));
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop()));
});

afterAll(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end()));
  await db.drop();
  await rm(emptyFolder, { recursive: true, force: true });
});

/** Each test gets its own service schema, so relays of different tests never share an outbox. */
async function newSchema(): Promise<string> {
  schemaCount += 1;
  const schema = `svc${schemaCount}`;
  await migrate(db.pool, { schema, folder: emptyFolder, logger });
  return schema;
}

function relay(opts: Partial<RelayOptions> & Pick<RelayOptions, 'schema' | 'bus'>): Relay {
  const r = startRelay({ pool: db.pool, logger, pollIntervalMs: 30_000, ...opts });
  relays.push(r);
  return r;
}

function records(key: string, from: number, count: number, topic = 'workorders.events'): OutboxRecord[] {
  return Array.from({ length: count }, (_, i) => ({ topic, key, value: `${key}:${from + i}`, headers: { seq: String(from + i) } }));
}

function sequencesByKey(published: Published[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const p of published) {
    const seqs = out.get(p.key) ?? [];
    seqs.push(Number(String(p.value).split(':')[1]));
    out.set(p.key, seqs);
  }
  return out;
}

describe('transactional outbox and relay', () => {
  it('never publishes rows of a transaction that rolled back', async () => {
    const schema = await newSchema();
    const bus = new RecordingBus();
    const r = relay({ schema, bus, pollIntervalMs: 50 });
    await expect(
      withTransaction(db.pool, async (client) => {
        await enqueueOutbox(client, schema, records('rolled-back', 1, 3));
        throw new Error('state change failed');
      }),
    ).rejects.toThrow('state change failed');
    await withTransaction(db.pool, (client) => enqueueOutbox(client, schema, records('committed', 1, 1)));
    await r.drained();
    await new Promise((resolve) => setTimeout(resolve, 200)); // a few more poll cycles
    expect(bus.published.map((p) => p.value)).toEqual(['committed:1']);
  });

  it('keeps per-key order across batches and delivers topic, key, value and headers', async () => {
    const schema = await newSchema();
    // Written before the relay starts, in interleaved transactions, as a backlog.
    for (let round = 0; round < 10; round++) {
      await withTransaction(db.pool, async (client) => {
        for (const key of ['grid-a', 'grid-b', 'grid-c']) {
          await enqueueOutbox(client, schema, records(key, round * 4 + 1, 4, round % 2 ? 'dispatch.assigned' : 'workorders.events'));
        }
      });
    }
    // While the broker is down everything waits in the outbox.
    const down = new RecordingBus();
    down.failures = Number.POSITIVE_INFINITY;
    const stalled = relay({ schema, bus: down, retryBackoffMs: 10 });
    await waitFor(() => down.attempts > 1, 5000, 'a failed publish');
    expect(await stalled.backlog()).toBe(120);
    await stalled.stop();

    const bus = new RecordingBus();
    const r = relay({ schema, bus, batchSize: 7 });
    await r.drained();
    expect(bus.published).toHaveLength(120);
    expect(bus.attempts).toBeGreaterThan(120 / 7); // really split into batches
    const expected = Array.from({ length: 40 }, (_, i) => i + 1);
    for (const [, seqs] of sequencesByKey(bus.published)) expect(seqs).toEqual(expected);
    expect(bus.published[0]).toEqual({ topic: 'workorders.events', key: 'grid-a', value: 'grid-a:1', headers: { seq: '1' } });
    expect(await r.backlog()).toBe(0);
  });

  it('publishes at NOTIFY, well before the poll interval, also after its LISTEN connection was cut', async () => {
    const schema = await newSchema();
    const bus = new RecordingBus();
    const r = relay({ schema, bus, pollIntervalMs: 60_000 });
    await r.drained();
    const listenerPid = async () =>
      (await db.pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [`griddispatch-relay:${schema}`])).rows[0]?.pid;
    await waitFor(async () => (await listenerPid()) !== undefined, 5000, 'the LISTEN connection');

    const published = async (value: string) => {
      const started = Date.now();
      await withTransaction(db.pool, (client) => enqueueOutbox(client, schema, [{ topic: 't', key: 'k', value }]));
      await waitFor(() => bus.published.some((p) => p.value === value), 5000, value);
      return Date.now() - started;
    };
    expect(await published('first')).toBeLessThan(1000);

    const oldPid = await listenerPid();
    await db.pool.query('SELECT pg_terminate_backend($1)', [oldPid]);
    await waitFor(async () => ![undefined, oldPid].includes(await listenerPid()), 10_000, 'the relay to LISTEN again');
    expect(await published('after reconnect')).toBeLessThan(1000);
  });

  it('retries a failing bus until it succeeds: everything published exactly once, in order', async () => {
    const schema = await newSchema();
    const bus = new RecordingBus();
    bus.failures = 4;
    await withTransaction(db.pool, (client) => enqueueOutbox(client, schema, [...records('wo-1', 1, 25), ...records('wo-2', 1, 25)]));
    const r = relay({ schema, bus, batchSize: 10, retryBackoffMs: 10, maxRetryBackoffMs: 50 });
    await r.drained();
    expect(bus.attempts).toBeGreaterThanOrEqual(4 + 5);
    expect(bus.published).toHaveLength(50);
    const expected = Array.from({ length: 25 }, (_, i) => i + 1);
    expect(sequencesByKey(bus.published)).toEqual(
      new Map([
        ['wo-1', expected],
        ['wo-2', expected],
      ]),
    );
  });

  it('never publishes a row twice when two relays (replicas) share one outbox', async () => {
    const schema = await newSchema();
    const bus = new RecordingBus();
    bus.delayMs = () => Math.random() * 4;
    const replicaPools = [createPool(db.url, { max: 3, logger }), createPool(db.url, { max: 3, logger })];
    pools.push(...replicaPools);
    const [a, b] = replicaPools.map((pool) => relay({ pool, schema, bus, batchSize: 10, pollIntervalMs: 20 }));
    const keys = ['g1', 'g2', 'g3', 'g4', 'g5'];
    for (let round = 0; round < 30; round++) {
      await withTransaction(db.pool, (client) =>
        enqueueOutbox(
          client,
          schema,
          keys.flatMap((k) => records(k, round * 2 + 1, 2)),
        ),
      );
    }
    await a!.drained();
    await b!.drained();
    expect(bus.published).toHaveLength(300);
    expect(new Set(bus.published.map((p) => p.value)).size).toBe(300);
    const expected = Array.from({ length: 60 }, (_, i) => i + 1);
    for (const k of keys) expect(sequencesByKey(bus.published).get(k)).toEqual(expected);
  });

  it('stop() finishes the batch in flight and commits it', async () => {
    const schema = await newSchema();
    let release: () => void = () => undefined;
    let entered = false;
    const published: string[] = [];
    const bus = {
      async publish(_topic: string, messages: OutgoingMessage[]) {
        entered = true;
        await new Promise<void>((resolve) => (release = resolve));
        published.push(...messages.map((m) => String(m.value)));
      },
    };
    await withTransaction(db.pool, (client) => enqueueOutbox(client, schema, records('k', 1, 3)));
    const r = startRelay({ pool: db.pool, schema, bus, logger });
    await waitFor(() => entered, 5000, 'publish to start');
    const stopped = r.stop();
    release();
    await stopped;
    expect(published).toEqual(['k:1', 'k:2', 'k:3']);
    expect(await r.backlog()).toBe(0);
  });
});
