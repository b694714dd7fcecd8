import pg from 'pg';
import type { OutgoingMessage } from '@griddispatch/bus';
import { outboxChannel, relayLockName, schemaIdent } from './identifiers.ts';
import { dbLogger } from './pool.ts';
import type { Relay, RelayOptions } from './types.ts';

interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

type CycleResult = { kind: 'published'; count: number } | { kind: 'locked' };

/** A sleep that `wake()` cuts short. */
class Waker {
  private wakeUp: (() => void) | undefined;
  private signalled = false;

  wake(): void {
    this.signalled = true;
    this.wakeUp?.();
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

/**
 * Publishes `<schema>.outbox` to the bus (docs/architecture.md#reliability-rules). Woken by NOTIFY from `enqueueOutbox` (on a
 * dedicated LISTEN connection that reconnects) or by the poll timer. Each cycle takes a batch in id
 * order inside a transaction holding the schema's relay advisory lock — so across replicas one relay
 * publishes at a time, which keeps per-key order — publishes it grouped by topic, deletes the rows
 * and commits. A crash between publish and commit republishes the batch (at-least-once; consumers
 * dedupe with the inbox). A failed publish is retried with backoff until it succeeds: nothing is
 * dropped and nothing overtakes it.
 */
export function startRelay(opts: RelayOptions): Relay {
  const { pool, schema, bus } = opts;
  const batchSize = opts.batchSize ?? 500;
  const pollIntervalMs = opts.pollIntervalMs ?? 1000;
  const retryBackoffMs = opts.retryBackoffMs ?? 200;
  const maxRetryBackoffMs = opts.maxRetryBackoffMs ?? 30_000;
  const logger = dbLogger(opts.logger).child({ component: 'outbox-relay', schema });
  const table = `${schemaIdent(schema)}.outbox`;
  const channel = outboxChannel(schema);

  const waker = new Waker();
  const cycleListeners = new Set<() => void>();
  // Backoff sleeps that stop() cuts short (a failed batch was rolled back: nothing is in flight).
  const stopWaiters = new Set<() => void>();
  let stopping = false;
  let listener: pg.Client | undefined;

  async function cycle(): Promise<CycleResult> {
    const client = await pool.connect();
    let connectionError: Error | undefined;
    const onError = (err: Error) => {
      connectionError = err;
    };
    client.on('error', onError);
    let rollbackFailed = false;
    try {
      await client.query('BEGIN');
      const lock = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked', [
        relayLockName(schema),
      ]);
      if (!lock.rows[0]?.locked) {
        // Another relay of this schema is publishing; it loops until the outbox is empty.
        await client.query('ROLLBACK');
        return { kind: 'locked' };
      }
      const { rows } = await client.query<OutboxRow>(`SELECT id, topic, key, value, headers FROM ${table} ORDER BY id LIMIT $1`, [
        batchSize,
      ]);
      if (rows.length > 0) {
        const byTopic = new Map<string, OutgoingMessage[]>();
        for (const row of rows) {
          const messages = byTopic.get(row.topic) ?? [];
          messages.push({ key: row.key, value: row.value, headers: row.headers });
          byTopic.set(row.topic, messages);
        }
        for (const [topic, messages] of byTopic) await bus.publish(topic, messages);
        await client.query(`DELETE FROM ${table} WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
      }
      await client.query('COMMIT');
      return { kind: 'published', count: rows.length };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        rollbackFailed = true;
      });
      throw err;
    } finally {
      client.off('error', onError);
      client.release(rollbackFailed || connectionError !== undefined);
    }
  }

  async function run(): Promise<void> {
    let failures = 0;
    let again = true; // first cycle at once: rows may have been written while no relay ran
    while (!stopping) {
      if (!again) await waker.sleep(pollIntervalMs);
      if (stopping) break;
      again = false;
      try {
        const result = await cycle();
        if (failures > 0) logger.info({ failures }, 'outbox relay recovered');
        failures = 0;
        if (result.kind === 'published') {
          if (result.count > 0) logger.debug({ count: result.count }, 'outbox batch published');
          again = result.count === batchSize;
        }
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
      for (const notify of [...cycleListeners]) notify();
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
