import pg from 'pg';
import type { Logger } from '@griddispatch/observability';
import { dbLogger } from './pool.ts';
import type { Pool } from './types.ts';

// One way to LISTEN: a dedicated connection (never a pooled one, so it takes no slot from the
// queries and a pool's idle timeout never closes it) that LISTENs on one channel and, when the
// connection is lost or cannot be made, reconnects with backoff until closed. NOTIFYs sent while
// it was not listening are lost, so every caller keeps a fallback (a poll, a version check) and
// looks once when the LISTEN is back (`onListening`).

export interface ListenOptions {
  /** Shown in `pg_stat_activity.application_name`; default the pool's (or pg's default). */
  applicationName?: string;
  logger?: Logger;
  /** Who listens, at the start of each log line (e.g. `outbox relay`). Default `LISTEN <channel>`. */
  label?: string;
  /** What the caller does while not listening, said in the log lines (e.g. `polling meanwhile`). */
  meanwhile?: string;
  /**
   * The LISTEN is in place: at first (`again` false) and after every reconnect (`again` true).
   * NOTIFYs sent before it are lost: the caller looks for what they would have announced.
   */
  onListening?(again: boolean): void;
  /** The connection was lost (or a reconnect failed): until `onListening`, no NOTIFY arrives. */
  onLost?(): void;
  /** First delay before a reconnect; doubles per failure. Default 500 ms. */
  retryMs?: number;
  /** Upper bound of the reconnect delay. Default 30 s. */
  maxRetryMs?: number;
}

export interface Listener {
  /** Settles once the first attempt is over: listening, or failed and retrying in the background. Never rejects. */
  readonly ready: Promise<void>;
  /** True while the LISTEN is in place. */
  listening(): boolean;
  /** Ends the connection and the reconnects; resolves when both are done. Idempotent. */
  close(): Promise<void>;
}

/**
 * Keeps a dedicated connection LISTENing on `channel` and calls `onNotify` with each NOTIFY's
 * payload. `source` is a pool (its connection settings are reused) or a connection string.
 */
export function listen(source: Pool | string, channel: string, onNotify: (payload: string | undefined) => void, opts: ListenOptions = {}): Listener {
  const logger = dbLogger(opts.logger);
  const label = opts.label ?? `LISTEN ${channel}`;
  const meanwhile = opts.meanwhile ? ` (${opts.meanwhile})` : '';
  const firstRetryMs = opts.retryMs ?? 500;
  const maxRetryMs = opts.maxRetryMs ?? 30_000;
  const base: pg.ClientConfig = typeof source === 'string' ? { connectionString: source } : { ...source.options };
  const config: pg.ClientConfig = {
    ...base,
    ...(opts.applicationName ? { application_name: opts.applicationName } : {}),
    // A peer that vanished without a FIN (a network cut) is noticed, not waited for forever.
    keepAlive: true,
    keepAliveInitialDelayMillis: base.keepAliveInitialDelayMillis ?? 10_000,
  };

  let closing = false;
  let up = false;
  let client: pg.Client | undefined;
  let wakeRetry: (() => void) | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  /** A callback's failure is the caller's bug; it must not end the reconnect loop. */
  function call(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      logger.error({ err }, `${label}: ${what} failed`);
    }
  }

  function pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wakeRetry = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakeRetry = done;
    });
  }

  async function run(): Promise<void> {
    let delay = firstRetryMs;
    let listenedBefore = false;
    while (!closing) {
      const c = new pg.Client(config);
      const ended = new Promise<void>((resolve) => c.once('end', () => resolve()));
      c.on('error', (err) => {
        if (!closing) logger.warn({ err }, `${label}: LISTEN connection failed`);
      });
      c.on('notification', (message) => {
        if (message.channel === channel) call('a notification', () => onNotify(message.payload));
      });
      // Known before it connects, so close() can end it at any point.
      client = c;
      try {
        await c.connect();
        await c.query(`LISTEN ${c.escapeIdentifier(channel)}`);
        delay = firstRetryMs;
        up = true;
        if (listenedBefore) logger.info(`${label}: LISTEN connection back`);
        const again = listenedBefore;
        listenedBefore = true;
        call('onListening', () => opts.onListening?.(again));
        markReady();
        await ended;
        up = false;
        if (!closing) {
          logger.warn(`${label}: LISTEN connection lost; reconnecting${meanwhile}`);
          call('onLost', () => opts.onLost?.());
        }
      } catch (err) {
        up = false;
        if (!closing) {
          logger.warn({ err, retryInMs: delay }, `${label}: cannot LISTEN; retrying${meanwhile}`);
          call('onLost', () => opts.onLost?.());
        }
        markReady();
      }
      client = undefined;
      await c.end().catch((err: unknown) => logger.debug({ err }, `${label}: closing the LISTEN connection`));
      if (closing) break;
      await pause(delay);
      delay = Math.min(delay * 2, maxRetryMs);
    }
    markReady();
  }

  const running = run();

  return {
    ready,
    listening: () => up,
    async close() {
      closing = true;
      up = false;
      wakeRetry?.();
      await client?.end().catch((err: unknown) => logger.debug({ err }, `${label}: closing the LISTEN connection`));
      await running;
    },
  };
}
