import { outboxChannel, relayLockName, schemaIdent } from './identifiers.ts';
import { listen } from './listen.ts';
import { dbLogger } from './pool.ts';
import { chunksByTopic, type OutboxRow } from './relay-chunks.ts';
import { Waker } from './relay-waker.ts';
import type { PoolClient, Relay, RelayOptions } from './types.ts';

// After the outbox ran empty, a round keeps the lock (and its connection) this long for the next
// NOTIFY, so a steady stream of rows is not one lock/unlock per row.
const LINGER_MS = 1000;
// A relay that found the lock taken tries again after this long (or later, at a NOTIFY or poll).
const LOCKED_RETRY_MS = 1000;
// Acknowledged rows wait this long for the next read to take their DELETE along, before being
// deleted on their own: at a steady stream, one statement (one transaction) per batch.
const DELETE_AFTER_MS = 50;

type RoundResult = { kind: 'published'; count: number; batches: number } | { kind: 'locked' };

/** Waits for every operation, then throws the first failure: nothing is left running behind a throw. */
async function settleAll(ops: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(ops)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Publishes `<schema>.outbox` to the bus (docs/architecture.md#reliability-rules). Woken by NOTIFY
 * from `enqueueOutbox` (on a dedicated LISTEN connection that reconnects), or by a slow safety poll.
 *
 * A round holds the schema's relay advisory lock (session level, on one connection), so across
 * replicas one relay publishes at a time, and publishes batches of up to `batchSize` rows in id
 * order. Under a backlog (a full batch) it pipelines: while batch N is being published, one
 * statement deletes batch N-1 (already acknowledged) and reads batch N+1; N+1 is published only
 * after N was acknowledged. Caught up (a shorter batch), that statement runs after the
 * acknowledgement instead (at the next NOTIFY, or after DELETE_AFTER_MS with the DELETE alone), so
 * it takes in everything that arrived meanwhile. Either way a batch costs one round trip to
 * PostgreSQL beside its publish. When the outbox runs empty the round
 * keeps the lock for LINGER_MS, woken by the next NOTIFY: a busy outbox is one long round, never
 * polled and never re-locked.
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
  // Published and acknowledged, not yet deleted: goes with the next statement (or after
  // DELETE_AFTER_MS, or at once when someone waits in drained()).
  let acked: string[] = [];

  function batchDone(): void {
    for (const notify of [...cycleListeners]) notify();
  }

  /**
   * One statement, one round trip: deletes `done` (rows whose publish was acknowledged) and reads
   * the next batch, skipping those and `inFlight` (the batch being published). The SELECT sees the
   * table as it was before the DELETE of the same statement: hence `done` in the exclusion too.
   */
  async function deleteAndRead(client: PoolClient, done: string[], inFlight: string[]): Promise<OutboxRow[]> {
    waker.clear();
    const select = `SELECT id, topic, key, value, headers FROM ${table} WHERE NOT (id = ANY($1::bigint[])) ORDER BY id LIMIT $2`;
    const { rows } =
      done.length === 0
        ? await client.query<OutboxRow>(select, [inFlight, batchSize])
        : await client.query<OutboxRow>(`WITH gone AS (DELETE FROM ${table} WHERE id = ANY($3::bigint[])) ${select}`, [done.concat(inFlight), batchSize, done]);
    return rows;
  }

  async function publish(rows: OutboxRow[]): Promise<void> {
    // Topics go out side by side (a Kafka bus sends them in one request); a topic's chunks one
    // after the other, each after the previous was acknowledged, which keeps its keys in order.
    const topics = [...chunksByTopic(rows, maxPublishBytes)];
    await settleAll(
      topics.map(async ([topic, chunks]) => {
        for (const chunk of chunks) await bus.publish(topic, chunk);
      }),
    );
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
      let count = 0;
      let batches = 0;
      try {
        let batch = await deleteAndRead(client, [], []);
        while (!stopping) {
          if (batch.length === 0) {
            // Nothing to publish: wait for a NOTIFY, holding the lock (and the acknowledged rows,
            // which go with the next read: one statement per batch under a steady stream).
            if (await waker.sleep(acked.length > 0 ? DELETE_AFTER_MS : LINGER_MS)) {
              batch = await deleteAndRead(client, acked, []);
              acked = [];
            } else if (acked.length > 0) {
              await client.query(`DELETE FROM ${table} WHERE id = ANY($1::bigint[])`, [acked]);
              acked = [];
            } else {
              break;
            }
            continue;
          }
          // Without the lock another replica may already be publishing these rows.
          if (connectionError) throw connectionError;
          const ids = batch.map((r) => r.id);
          if (batch.length === batchSize) {
            // A backlog: read the next batch while this one is being published.
            const [published, next] = await Promise.allSettled([publish(batch), deleteAndRead(client, acked, ids)]);
            // Whatever failed, keep track of what is acknowledged and not yet deleted.
            if (next.status === 'fulfilled') acked = [];
            if (published.status === 'fulfilled') acked = acked.concat(ids);
            if (published.status === 'rejected') throw published.reason;
            if (next.status === 'rejected') throw next.reason;
            batch = next.value;
          } else {
            // Caught up: a read now would find only what arrives during the publish. After the
            // acknowledgement: at once if a NOTIFY came meanwhile, else at the next one.
            await publish(batch);
            acked = acked.concat(ids);
            batch = [];
            if (waker.woken()) {
              batch = await deleteAndRead(client, acked, []);
              acked = [];
            }
          }
          count += ids.length;
          batches += 1;
          logger.debug({ count: ids.length }, 'outbox batch published');
          batchDone();
        }
        return { kind: 'published', count, batches };
      } finally {
        // The last acknowledged rows go with the unlock, in one statement. If that fails, the
        // connection is closed (which releases the lock) and the rows deleted below.
        const unlock = 'SELECT pg_advisory_unlock(hashtextextended($1, 0))';
        await (
          acked.length === 0
            ? client.query(unlock, [lockName])
            : client.query(`WITH gone AS (DELETE FROM ${table} WHERE id = ANY($2::bigint[])) ${unlock}`, [lockName, acked])
        ).then(
          () => {
            acked = [];
            mayHoldLock = false;
          },
          (err: unknown) => logger.debug({ err }, 'outbox relay: unlock failed; closing the connection instead'),
        );
      }
    } finally {
      client.off('error', onError);
      // A connection that may still hold the lock is closed, never pooled: that releases it.
      client.release(mayHoldLock || connectionError !== undefined);
      if (acked.length > 0) {
        await pool
          .query(`DELETE FROM ${table} WHERE id = ANY($1::bigint[])`, [acked])
          .catch((err: unknown) => logger.warn({ err, rows: acked.length }, 'outbox relay: published rows not deleted; they will be published again'));
      }
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
        // Another replica's round holds the lock (and sees the same NOTIFYs): try again at most
        // once a second, not at every NOTIFY of a busy outbox.
        if (result.kind === 'locked') await pause(LOCKED_RETRY_MS);
      } catch (err) {
        failures += 1;
        const delay = Math.min(maxRetryBackoffMs, retryBackoffMs * 2 ** (failures - 1));
        const retryInMs = Math.round(delay / 2 + (Math.random() * delay) / 2);
        logger.error({ err, failures, retryInMs }, 'outbox relay: batch not published; retrying');
        await pause(retryInMs);
        again = true;
      }
      batchDone();
    }
  }

  /** A sleep that only stop() cuts short. */
  async function pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        stopWaiters.delete(finish);
        resolve();
      }
      stopWaiters.add(finish);
    });
  }

  const running = run();
  // Notifications sent while not listening are lost: each time the LISTEN is (back) in place, look once.
  const listener = listen(pool, channel, () => waker.wake(), {
    applicationName: `griddispatch-relay:${schema}`,
    logger,
    label: 'outbox relay',
    meanwhile: 'polling meanwhile',
    onListening: () => waker.wake(),
  });

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
        // Published rows waiting for the next read to take their DELETE along: delete them now.
        if (acked.length > 0) waker.wake();
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
      await listener.close();
    },
  };
}
