import pg from 'pg';
import { outboxChannel, relayLockName, schemaIdent } from './identifiers.ts';
import { dbLogger } from './pool.ts';
import { chunksByTopic, type OutboxRow } from './relay-chunks.ts';
import type { PoolClient, Relay, RelayOptions } from './types.ts';

type RoundResult = { kind: 'published'; count: number; batches: number } | { kind: 'locked' };

/** A sleep that `wake()` cuts short. */
class Waker {
  private wakeUp: (() => void) | undefined;
  private signalled = false;

  wake(): void {
    this.signalled = true;
    this.wakeUp?.();
  }

  /** Forgets wake-ups so far: called right before a read that will see what they announced. */
  clear(): void {
    this.signalled = false;
  }

  /** Resolves after `ms`, or at once/early when woken; consumes the wake-up. */
  async sleep(ms: number): Promise<void> {
    if (!this.signalled) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wakeUp = done;
      });
      this.wakeUp = undefined;
    }
    this.signalled = false;
  }
}

/** Waits for every operation, then throws the first failure: nothing is left running behind a throw. */
async function settleAll<T extends readonly unknown[]>(ops: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(ops);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/**
 * Publishes `<schema>.outbox` to the bus (DESIGN §5). Woken by NOTIFY from `enqueueOutbox` (on a
 * dedicated LISTEN connection that reconnects), or by a slow safety poll.
 *
 * A round holds the schema's relay advisory lock (session level, on one connection), so across
 * replicas one relay publishes at a time, and pipelines batches of up to `batchSize` rows in id
 * order until a read comes back empty: while batch N is being published, batch N-1 (already
 * acknowledged) is deleted with one statement and batch N+1 is read; N+1 is published only after
 * N was acknowledged. A busy outbox therefore keeps one round going and is never polled.
 *
 * Batch N+1 is "the first rows in id order that are not in flight", not "ids after N": ids are
 * taken at insert and transactions commit out of order, so a row with a lower id can become
 * visible after N was read. Writers of one aggregate are serialised by its row lock, so such a
 * row has no later row of its key in N, and publishing it next keeps per-key order; skipping it
 * until after higher ids of its key would not.
 *
 * A crash between an acknowledgement and its delete republishes those rows (at-least-once;
 * consumers dedupe with the inbox). A failed publish ends the round and is retried with backoff
 * from the oldest row: nothing is dropped and nothing overtakes it.
 */
export function startRelay(opts: RelayOptions): Relay {
  const { pool, schema, bus } = opts;
  const batchSize = opts.batchSize ?? 5000;
  const maxPublishBytes = opts.maxPublishBytes ?? 900_000;
  const pollIntervalMs = opts.pollIntervalMs ?? 5000;
  const retryBackoffMs = opts.retryBackoffMs ?? 200;
  const maxRetryBackoffMs = opts.maxRetryBackoffMs ?? 30_000;
  const logger = dbLogger(opts.logger).child({ component: 'outbox-relay', schema });
  const table = `${schemaIdent(schema)}.outbox`;
  const channel = outboxChannel(schema);
  const lockName = relayLockName(schema);

  const waker = new Waker();
  const cycleListeners = new Set<() => void>();
  // Backoff sleeps that stop() cuts short (a failed round left nothing in flight).
  const stopWaiters = new Set<() => void>();
  let stopping = false;
  let listener: pg.Client | undefined;

  function batchDone(): void {
    for (const notify of [...cycleListeners]) notify();
  }

  async function read(client: PoolClient, inFlight: string[]): Promise<OutboxRow[]> {
    waker.clear();
    const { rows } = await client.query<OutboxRow>(
      `SELECT id, topic, key, value, headers FROM ${table} WHERE NOT (id = ANY($1::bigint[])) ORDER BY id LIMIT $2`,
      [inFlight, batchSize],
    );
    return rows;
  }

  async function remove(ids: string[]): Promise<void> {
    if (ids.length > 0) await pool.query(`DELETE FROM ${table} WHERE id = ANY($1::bigint[])`, [ids]);
  }

  async function publish(rows: OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    // Topics go out side by side (a Kafka bus sends them in one request); a topic's chunks one
    // after the other, each after the previous was acknowledged, which keeps its keys in order.
    const topics = [...chunksByTopic(rows, maxPublishBytes)];
    await settleAll(
      topics.map(async ([topic, chunks]) => {
        for (const chunk of chunks) await bus.publish(topic, chunk);
      }),
    );
  }

  /** Batches until the outbox is empty (or stop()), on `client`, which holds the relay lock. */
  async function pipeline(client: PoolClient, lockLost: () => Error | undefined): Promise<RoundResult> {
    let count = 0;
    let batches = 0;
    let acked: string[] = []; // published, not yet deleted
    try {
      let batch = await read(client, []);
      while (batch.length > 0 && !stopping) {
        // Without the lock another replica may already be publishing these rows.
        const lost = lockLost();
        if (lost) throw lost;
        const ids = batch.map((r) => r.id);
        const [published, removed, next] = await Promise.allSettled([publish(batch), remove(acked), read(client, acked.concat(ids))]);
        // Whatever else failed, keep track of what is acknowledged and not yet deleted.
        if (removed.status === 'fulfilled') acked = [];
        if (published.status === 'fulfilled') acked = acked.concat(ids);
        if (published.status === 'rejected') throw published.reason;
        if (removed.status === 'rejected') throw removed.reason;
        if (next.status === 'rejected') throw next.reason;
        count += batch.length;
        batches += 1;
        logger.debug({ count: batch.length }, 'outbox batch published');
        batchDone();
        batch = next.value;
      }
    } finally {
      // Also after a failure: what was acknowledged need not go out again.
      await remove(acked).catch((err: unknown) => logger.warn({ err, rows: acked.length }, 'outbox relay: published rows not deleted; they will be published again'));
    }
    return { kind: 'published', count, batches };
  }

  async function round(): Promise<RoundResult> {
    const client = await pool.connect();
    let connectionError: Error | undefined;
    const onError = (err: Error) => {
      connectionError = err;
    };
    client.on('error', onError);
    let mayHoldLock = false;
    try {
      const lock = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [lockName]);
      // Another relay of this schema is publishing; it goes on until the outbox is empty.
      if (!lock.rows[0]?.locked) return { kind: 'locked' };
      mayHoldLock = true;
      try {
        return await pipeline(client, () => connectionError);
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockName]).then(
          () => (mayHoldLock = false),
          (err: unknown) => logger.debug({ err }, 'outbox relay: unlock failed; closing the connection instead'),
        );
      }
    } finally {
      client.off('error', onError);
      // A connection that may still hold the lock is closed, never pooled: that releases it.
      client.release(mayHoldLock || connectionError !== undefined);
    }
  }

  async function run(): Promise<void> {
    let failures = 0;
    let again = true; // first round at once: rows may have been written while no relay ran
    while (!stopping) {
      if (!again) await waker.sleep(pollIntervalMs);
      if (stopping) break;
      again = false;
      try {
        const result = await round();
        if (failures > 0) logger.info({ failures }, 'outbox relay recovered');
        failures = 0;
        if (result.kind === 'published' && result.count > 0) logger.debug({ count: result.count, batches: result.batches }, 'outbox drained');
      } catch (err) {
        failures += 1;
        const delay = Math.min(maxRetryBackoffMs, retryBackoffMs * 2 ** (failures - 1));
        const retryInMs = Math.round(delay / 2 + (Math.random() * delay) / 2);
        logger.error({ err, failures, retryInMs }, 'outbox relay: batch not published; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(finish, retryInMs);
          function finish() {
            clearTimeout(timer);
            stopWaiters.delete(finish);
            resolve();
          }
          stopWaiters.add(finish);
        });
        again = true;
      }
      batchDone();
    }
  }
  async function listen(): Promise<void> {
    let delay = 500;
    while (!stopping) {
      const client = new pg.Client({ ...pool.options, application_name: `griddispatch-relay:${schema}` });
      const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
      client.on('error', (err) => {
        if (!stopping) logger.warn({ err }, 'outbox relay: LISTEN connection failed');
      });
      client.on('notification', () => waker.wake());
      try {
        await client.connect();
        listener = client;
        if (stopping) {
          await client.end().catch((err: unknown) => logger.debug({ err }, 'closing LISTEN connection'));
          return;
        }
        await client.query(`LISTEN "${channel}"`);
        delay = 500;
        waker.wake(); // notifications sent while disconnected are lost: look once
        await ended;
        listener = undefined;
        if (stopping) return;
        logger.warn('outbox relay: LISTEN connection lost; reconnecting (polling meanwhile)');
      } catch (err) {
        listener = undefined;
        logger.warn({ err, retryInMs: delay }, 'outbox relay: cannot LISTEN; retrying (polling meanwhile)');
        await client.end().catch((endErr: unknown) => logger.debug({ err: endErr }, 'closing failed LISTEN connection'));
        if (stopping) return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, delay);
        function finish() {
          clearTimeout(timer);
          stopWaiters.delete(finish);
          resolve();
        }
        stopWaiters.add(finish);
      });
      delay = Math.min(delay * 2, 30_000);
    }
  }

  const running = run();
  const listening = listen();

  async function backlog(): Promise<number> {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    return rows[0]?.n ?? 0;
  }

  return {
    backlog,
    async drained() {
      for (;;) {
        if ((await backlog()) === 0) return;
        if (stopping) throw new Error(`outbox relay for ${schema} stopped before the outbox was drained`);
        // Re-check after this relay's next cycle, or soon if another replica holds the lock.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, 50);
          function done() {
            clearTimeout(timer);
            cycleListeners.delete(done);
            resolve();
          }
          cycleListeners.add(done);
        });
      }
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      waker.wake();
      for (const finish of [...stopWaiters]) finish();
      await running;
      await listener?.end().catch((err: unknown) => logger.debug({ err }, 'closing LISTEN connection'));
      await listening;
    },
  };
}
