import type { Pool } from 'pg';
import type { Registry } from 'prom-client';
import { sleep, type Bus, type Subscription } from '@griddispatch/bus';
import { loadRetentionConfig, migrate, startRelay, startRetention, type Relay, type Retention, type RetentionConfig } from '@griddispatch/db';
import type { ServiceHandle } from '@griddispatch/http';
import type { Logger } from '@griddispatch/observability';
import { BoardHub } from './board/hub.ts';
import { loadConfig, type IntakeConfig } from './config.ts';
import { READ_MODEL_TOPICS, readModelConsumer } from './consumers/consume.ts';
import type { IntakeContext } from './context.ts';
import { SCHEMA } from './schema.ts';
import { intakeMetrics } from './metrics.ts';
import { adapterRoutes } from './routes/adapters.routes.ts';
import { boardRoutes } from './routes/board.routes.ts';
import { callbackRoutes } from './routes/callbacks.routes.ts';
import { intakeRetention } from './retention.ts';
import { meterEventsRoutes } from './routes/meter-events.routes.ts';
import { open311Routes } from './routes/open311.routes.ts';
import { requestsRoutes } from './routes/requests.routes.ts';
import { workOrderRoutes } from './routes/work-orders.routes.ts';
import { createRequestWriter } from './use-cases/create-request.ts';

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
  board?: { heartbeatMs?: number; coalesceMs?: number; bufferSize?: number; streamsPerKey?: number };
  /** Housekeeping of closed work orders and inbox marks. Default: `loadRetentionConfig()` (environment). */
  retention?: RetentionConfig;
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
  const hub = new BoardHub({ pool: deps.pool, logger, coalesceMs: deps.board?.coalesceMs, bufferSize: deps.board?.bufferSize });
  const metrics = intakeMetrics({ pool: deps.pool, bus: deps.bus, logger, groupId: config.groupId, boardStreams: () => hub.streams });
  const ctx: IntakeContext = {
    pool: deps.pool,
    logger,
    now: deps.now ?? (() => new Date()),
    requestWriter: createRequestWriter(deps.pool, logger),
    onAccepted: (channel, duplicate) => metrics.accepted(channel, duplicate),
    onMeterEvents: (accepted, duplicates) => metrics.meterEvents(accepted, duplicates),
  };
  const retentionConfig = deps.retention ?? loadRetentionConfig();
  let retention: Retention | undefined;

  let subscription: Subscription | undefined;
  let relay: Relay | undefined;
  // Aborted by stop(): the join loop ends and its retry delay is cut short.
  let stopping = new AbortController();
  let joining: Promise<void> | undefined;

  // Keeps trying to join until it works or the service stops: requests are accepted and stored
  // meanwhile (the relay catches up), only the read model waits.
  async function joinReadModel(signal: AbortSignal): Promise<void> {
    let delay = 500;
    while (!signal.aborted) {
      try {
        const joined = await deps.bus.subscribe({
          groupId: config.groupId,
          topics: [...READ_MODEL_TOPICS],
          ...readModelConsumer(ctx),
          ...(deps.consumerRetry ? { maxAttempts: deps.consumerRetry.maxAttempts, retryBackoffMs: deps.consumerRetry.backoffMs } : {}),
        });
        if (signal.aborted) await joined.stop();
        else subscription = joined;
        return;
      } catch (err) {
        logger.warn({ err, retryInMs: delay }, 'read-model consumer could not join its group; retrying');
        await sleep(delay, signal);
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  return {
    name: 'intake',
    routes: async (app) => {
      await app.register(requestsRoutes(ctx));
      await app.register(meterEventsRoutes(ctx));
      await app.register(adapterRoutes({ ...ctx, timeZone: config.timeZone }));
      await app.register(workOrderRoutes(ctx));
      await app.register(callbackRoutes(ctx));
      await app.register(open311Routes(ctx));
      await app.register(
        boardRoutes({
          ctx,
          hub,
          gridsUrl: config.gridsUrl,
          timeZone: config.timeZone,
          heartbeatMs: deps.board?.heartbeatMs,
          streamsPerKey: deps.board?.streamsPerKey ?? config.streamsPerKey,
        }),
      );
    },
    async start() {
      stopping = new AbortController();
      relay = startRelay({ pool: deps.pool, schema: SCHEMA, bus: deps.bus, logger, ...deps.relay });
      hub.start();
      retention = startRetention({
        pool: deps.pool,
        schema: SCHEMA,
        tables: intakeRetention(retentionConfig),
        intervalMs: retentionConfig.intervalMs,
        now: ctx.now,
        logger,
      });
      joining = joinReadModel(stopping.signal);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([joining, new Promise<void>((resolve) => (timer = setTimeout(resolve, deps.consumerStartWaitMs ?? 10_000)))]);
      clearTimeout(timer);
      logger.info({ groupId: config.groupId, timeZone: config.timeZone, consuming: subscription !== undefined }, 'intake started');
    },
    async stop() {
      stopping.abort();
      await retention?.stop();
      retention = undefined;
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
    registerMetrics: (registry: Registry) => metrics.register(registry),
  };
}
