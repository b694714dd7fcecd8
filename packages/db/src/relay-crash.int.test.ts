import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, waitForIdle, type Bus, type Subscription } from '@griddispatch/bus';
import { createLogger } from '@griddispatch/observability';
import { freshDatabase, uniqueSuffix, type FreshDatabase } from '@griddispatch/testkit';
import { applyOnce, enqueueOutbox, migrate, withTransaction } from './index.ts';
import { waitFor } from './test-fixtures/recording-bus.ts';

// Issue 2, "Done when": kill the relay in the middle of a batch — after Kafka acknowledged it,
// before its rows were deleted — restart it, and show nothing lost and nothing applied twice.

const CHILD = new URL('./test-fixtures/relay-child.ts', import.meta.url).pathname;
const TOPIC = 'workorders.events';
const EVENTS = 400;
const BATCH = 50;
const logger = createLogger({ service: 'db-test', level: 'warn' });

let db: FreshDatabase;
let folder: string;
let kafka: Bus | undefined;
const prefix = `test.${uniqueSuffix()}.`;

beforeAll(async () => {
  db = await freshDatabase('db_relay_crash');
  folder = await mkdtemp(join(tmpdir(), 'gd-crash-'));
  await migrate(db.pool, { schema: 'producer_svc', folder, logger });
  await migrate(db.pool, { schema: 'consumer_svc', folder, logger });
  // No unique constraint: only the inbox stands between a duplicate delivery and a second effect.
  await db.pool.query('CREATE TABLE consumer_svc.effects (n bigserial PRIMARY KEY, event_id text NOT NULL, key text NOT NULL, seq int NOT NULL)');
});

afterAll(async () => {
  await kafka?.close();
  await db.drop();
  await rm(folder, { recursive: true, force: true });
});

function startRelayProcess(extraEnv: Record<string, string>) {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set (the vitest global setup provides it)');
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokers,
      GD_TOPIC_PREFIX: prefix,
      RELAY_SCHEMA: 'producer_svc',
      BATCH_SIZE: String(BATCH),
      ...extraEnv,
    },
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const events: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('{"event"')) events.push(JSON.parse(line) as Record<string, unknown>);
  });
  const reported = async (event: string) => {
    await Promise.race([
      waitFor(() => events.some((e) => e.event === event), 45_000, `the relay process to report ${event}`),
      exited.then(({ code }) => {
        if (!events.some((e) => e.event === event)) throw new Error(`relay process exited (${code}) before ${event}`);
      }),
    ]);
    return events.find((e) => e.event === event)!;
  };
  return { child, exited, reported };
}

async function outboxCount(): Promise<number> {
  return (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM producer_svc.outbox')).rows[0]!.n;
}

describe('outbox relay killed in the middle of a batch', () => {
  it('loses nothing, and the inbox keeps every effect exactly-once despite the republished batch', async () => {
    const sent: { id: string; key: string; seq: number }[] = [];
    for (let tx = 0; tx < 20; tx++) {
      await withTransaction(db.pool, async (client) => {
        const rows = Array.from({ length: EVENTS / 20 }, (_, i) => {
          const seq = tx * (EVENTS / 20) + i;
          const event = { id: randomUUID(), key: `wo-${seq % 8}`, seq };
          sent.push(event);
          return { topic: TOPIC, key: event.key, value: JSON.stringify(event) };
        });
        await enqueueOutbox(client, 'producer_svc', rows);
      });
    }

    // 1. The relay publishes two batches, then the third reaches Kafka and the process dies
    //    before deleting its rows.
    const crashing = startRelayProcess({ CRASH_AFTER_BATCHES: '3' });
    expect(await crashing.reported('published-not-deleted')).toEqual({ event: 'published-not-deleted', count: BATCH });
    // The second batch's DELETE runs while the third is being published: let it land first.
    await waitFor(async () => (await outboxCount()) === EVENTS - 2 * BATCH, 10_000, 'the second batch to be deleted');
    crashing.child.kill('SIGKILL');
    expect((await crashing.exited).signal).toBe('SIGKILL');
    expect(await outboxCount()).toBe(EVENTS - 2 * BATCH); // the third batch is still there: it will go out again

    // 2. A new relay process takes over and drains the outbox.
    const restarted = startRelayProcess({});
    await restarted.reported('drained');
    restarted.child.kill('SIGTERM');
    expect((await restarted.exited).code).toBe(0);
    expect(await outboxCount()).toBe(0);

    // 3. A consumer applies each event with the inbox in the same transaction as its effect.
    kafka = createKafkaBus({ brokers: process.env.KAFKA_BROKERS!, prefix, clientId: 'relay-crash-consumer', logger });
    let deliveries = 0;
    const subscription: Subscription = await kafka.subscribe({
      groupId: `relay-crash-${uniqueSuffix()}`,
      topics: [TOPIC],
      handler: async (message) => {
        deliveries += 1;
        const event = JSON.parse(message.value.toString()) as { id: string; key: string; seq: number };
        await withTransaction(db.pool, async (client) => {
          if (!(await applyOnce(client, 'consumer_svc', 'crash-test', event.id))) return;
          await client.query('INSERT INTO consumer_svc.effects (event_id, key, seq) VALUES ($1, $2, $3)', [event.id, event.key, event.seq]);
        });
      },
    });
    await waitFor(() => deliveries >= EVENTS + BATCH, 45_000, 'every record to be delivered');
    await waitForIdle(kafka, { timeoutMs: 30_000 });
    // Kafka holds every event, the killed batch twice.
    const lag = await kafka.consumerLag();
    expect(lag.filter((l) => l.topic === TOPIC).reduce((sum, l) => sum + l.end, 0)).toBe(EVENTS + BATCH);
    expect(deliveries).toBeGreaterThanOrEqual(EVENTS + BATCH);
    await subscription.stop();

    // Nothing lost, nothing applied twice, and each work order's events applied in order.
    const effects = (await db.pool.query<{ event_id: string; key: string; seq: number }>('SELECT event_id, key, seq FROM consumer_svc.effects ORDER BY n'))
      .rows;
    expect(effects).toHaveLength(EVENTS);
    expect(new Set(effects.map((e) => e.event_id))).toEqual(new Set(sent.map((e) => e.id)));
    for (const key of new Set(sent.map((e) => e.key))) {
      const seqs = effects.filter((e) => e.key === key).map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });
});
