import type { Pool } from 'pg';
import { Gauge, type Registry } from 'prom-client';
import type { Bus, Subscription } from '@griddispatch/bus';
import { migrate, startRelay, type Relay } from '@griddispatch/db';
import type { ServiceHandle } from '@griddispatch/http';
import type { Logger } from '@griddispatch/observability';
import { BoardHub } from './board/hub.ts';
import { DEFAULT_GRIDS_URL, loadConfig, type IntakeConfig } from './config.ts';
import { READ_MODEL_TOPICS, readModelHandler } from './consumers/index.ts';
import { SCHEMA, type IntakeContext } from './context.ts';
import { adapterRoutes } from './routes/adapters.routes.ts';
import { boardRoutes } from './routes/board.routes.ts';
import { open311Routes } from './routes/open311.routes.ts';
import { requestsRoutes } from './routes/requests.routes.ts';
import { workOrderRoutes } from './routes/work-orders.routes.ts';

/** Sleeps that `interrupt()` cuts short (stop must not wait out a retry delay). */
class Pause {
  private readonly waiting = new Set<() => void>();

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiting.add(done);
    });
  }

  interrupt(): void {
    for (const done of [...this.waiting]) done();
  }
}

export const MIGRATIONS = new URL('./migrations/', import.meta.url).pathname;

export interface IntakeDeps {
  pool: Pool;
  bus: Bus;
  logger: Logger;
  /** Default: parsed from the environment (`loadConfig`). */
  config?: IntakeConfig;
  now?: () => Date;
  /** Outbox relay tuning (tests shorten the safety poll). */
  relay?: { batchSize?: number; pollIntervalMs?: number; retryBackoffMs?: number; maxRetryBackoffMs?: number };
  /**
   * How long `start()` waits for the read-model consumer to join its group before it returns and
   * keeps trying in the background (Kafka may be away at boot: intake still accepts). Default 10 s.
   */
  consumerStartWaitMs?: number;
  /** Bus attempts per read-model record and first retry delay. Default: the bus's (5 attempts from 100 ms). */
  consumerRetry?: { maxAttempts: number; backoffMs: number };
  /** Dispatch board tuning (tests shorten the heartbeat). */
  board?: { heartbeatMs?: number; coalesceMs?: number; bufferSize?: number };
}

export interface IntakeHandle extends ServiceHandle {
  /** Resolves when every accepted request and work-order event has been published. */
  drained(): Promise<void>;
}

/** Composition root: migrations and routes now; relay and read-model consumer in `start()`. */
export async function buildIntake(deps: IntakeDeps): Promise<IntakeHandle> {
  const config = deps.config ?? loadConfig();
  const logger = deps.logger.child({ service: 'intake' });
  await migrate(deps.pool, { schema: SCHEMA, folder: MIGRATIONS, logger });
  const ctx: IntakeContext = { pool: deps.pool, logger, now: deps.now ?? (() => new Date()) };

  let subscription: Subscription | undefined;
  let relay: Relay | undefined;
  let stopped = true;
  let joining: Promise<void> | undefined;
  const pause = new Pause();
  const hub = new BoardHub({ pool: deps.pool, logger, coalesceMs: deps.board?.coalesceMs, bufferSize: deps.board?.bufferSize });

  // Keeps trying to join until it works or the service stops: requests are accepted and stored
  // meanwhile (the relay catches up), only the read model waits.
  async function joinReadModel(): Promise<void> {
    let delay = 500;
    while (!stopped) {
      try {
        const joined = await deps.bus.subscribe({
          groupId: config.groupId,
          topics: [...READ_MODEL_TOPICS],
          handler: readModelHandler(ctx),
          ...(deps.consumerRetry ? { maxAttempts: deps.consumerRetry.maxAttempts, retryBackoffMs: deps.consumerRetry.backoffMs } : {}),
        });
        if (stopped) await joined.stop();
        else subscription = joined;
        return;
      } catch (err) {
        logger.warn({ err, retryInMs: delay }, 'read-model consumer could not join its group; retrying');
        await pause.sleep(delay);
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  return {
    name: 'intake',
    routes: async (app) => {
      await app.register(requestsRoutes(ctx));
      await app.register(adapterRoutes({ ...ctx, timeZone: config.timeZone }));
      await app.register(workOrderRoutes(ctx));
      await app.register(open311Routes(ctx));
      await app.register(boardRoutes({ ctx, hub, gridsUrl: config.gridsUrl ?? DEFAULT_GRIDS_URL, heartbeatMs: deps.board?.heartbeatMs }));
    },
    async start() {
      stopped = false;
      relay = startRelay({ pool: deps.pool, schema: SCHEMA, bus: deps.bus, logger, ...deps.relay });
      hub.start();
      joining = joinReadModel();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([joining, new Promise<void>((resolve) => (timer = setTimeout(resolve, deps.consumerStartWaitMs ?? 10_000)))]);
      clearTimeout(timer);
      logger.info({ groupId: config.groupId, timeZone: config.timeZone, consuming: subscription !== undefined }, 'intake started');
    },
    async stop() {
      stopped = true;
      pause.interrupt();
      await joining;
      await subscription?.stop();
      subscription = undefined;
      // Unpublished outbox rows are durable; the next start (or another replica) publishes them.
      await relay?.stop();
      relay = undefined;
      await hub.stop();
    },
    async ready() {
      if (!subscription?.isRunning()) return false;
      return (await deps.pool.query('SELECT 1')).rowCount === 1;
    },
    async drained() {
      await relay?.drained();
    },
    registerMetrics(registry: Registry) {
      new Gauge({
        name: 'griddispatch_intake_outbox_backlog',
        help: 'intake outbox rows (accepted requests, work-order events) not yet published',
        registers: [registry],
        async collect() {
          this.set(relay ? await relay.backlog() : 0);
        },
      });
      new Gauge({
        name: 'griddispatch_intake_consumer_lag',
        help: 'records on the read model’s topics not yet applied by intake’s consumer group, by topic',
        labelNames: ['topic'] as const,
        registers: [registry],
        async collect() {
          // A broker that does not answer must not break the whole scrape: the gauge goes stale.
          const lags = await deps.bus.consumerLag().catch((err: unknown) => {
            logger.warn({ err }, 'consumer lag unavailable for /metrics');
            return null;
          });
          if (!lags) return;
          this.reset();
          for (const topic of READ_MODEL_TOPICS) this.set({ topic }, 0);
          const byTopic = new Map<string, number>();
          for (const l of lags) if (l.groupId === config.groupId) byTopic.set(l.topic, (byTopic.get(l.topic) ?? 0) + l.lag);
          for (const [topic, lag] of byTopic) this.set({ topic }, lag);
        },
      });
      new Gauge({
        name: 'griddispatch_intake_board_streams',
        help: 'dispatch-board event streams (SSE) open on this replica',
        registers: [registry],
        collect() {
          this.set(hub.streams);
        },
      });
    },
  };
}
