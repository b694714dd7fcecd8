import type { Pool } from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Bus, Subscription } from '@griddispatch/bus';
import { loadRetentionConfig, migrate, startRelay, startRetention, type Relay, type Retention, type RetentionConfig } from '@griddispatch/db';
import { registerProbeGauge, registerServiceMetrics, type ServiceHandle } from '@griddispatch/http';
import type { Logger } from '@griddispatch/observability';
import { BOARD_OPEN_STATUSES } from './board/board-view.ts';
import { BoardHub } from './board/hub.ts';
import { loadConfig, type IntakeConfig } from './config.ts';
import { READ_MODEL_TOPICS, readModelConsumer } from './consumers/index.ts';
import { SCHEMA, type IntakeContext } from './context.ts';
import { adapterRoutes } from './routes/adapters.routes.ts';
import { boardRoutes } from './routes/board.routes.ts';
import { callbackRoutes } from './routes/callbacks.routes.ts';
import { intakeRetention } from './retention.ts';
import { meterEventsRoutes } from './routes/meter-events.routes.ts';
import { open311Routes } from './routes/open311.routes.ts';
import { requestsRoutes } from './routes/requests.routes.ts';
import { workOrderRoutes } from './routes/work-orders.routes.ts';
import { createRequestWriter } from './use-cases/create-request.ts';

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
  const requestsTotal = new Counter({
    name: 'griddispatch_intake_requests_total',
    help: 'Requests accepted (stored, 202) or recognised as retries of one already stored (duplicate), by channel',
    labelNames: ['channel', 'result'] as const,
    registers: [],
  });
  const meterEventsTotal = new Counter({
    name: 'griddispatch_intake_meter_events_total',
    help: 'Meter events stored and published (accepted), or recognised by (source, eventId) as stored before (duplicate)',
    labelNames: ['result'] as const,
    registers: [],
  });
  const ctx: IntakeContext = {
    pool: deps.pool,
    logger,
    now: deps.now ?? (() => new Date()),
    requestWriter: createRequestWriter(deps.pool, logger),
    onAccepted: (channel, duplicate) => requestsTotal.inc({ channel, result: duplicate ? 'duplicate' : 'accepted' }),
    onMeterEvents: (accepted, duplicates) => {
      meterEventsTotal.inc({ result: 'accepted' }, accepted);
      meterEventsTotal.inc({ result: 'duplicate' }, duplicates);
    },
  };
  const retentionConfig = deps.retention ?? loadRetentionConfig();
  let retention: Retention | undefined;

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
          ...readModelConsumer(ctx),
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
      await app.register(meterEventsRoutes(ctx));
      await app.register(adapterRoutes({ ...ctx, timeZone: config.timeZone }));
      await app.register(workOrderRoutes(ctx));
      await app.register(callbackRoutes(ctx));
      await app.register(open311Routes(ctx));
      await app.register(boardRoutes({ ctx, hub, gridsUrl: config.gridsUrl, timeZone: config.timeZone, heartbeatMs: deps.board?.heartbeatMs, streamsPerKey: deps.board?.streamsPerKey ?? config.streamsPerKey }));
    },
    async start() {
      stopped = false;
      relay = startRelay({ pool: deps.pool, schema: SCHEMA, bus: deps.bus, logger, ...deps.relay });
      hub.start();
      retention = startRetention({ pool: deps.pool, schema: SCHEMA, tables: intakeRetention(retentionConfig), intervalMs: retentionConfig.intervalMs, now: ctx.now, logger });
      joining = joinReadModel();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([joining, new Promise<void>((resolve) => (timer = setTimeout(resolve, deps.consumerStartWaitMs ?? 10_000)))]);
      clearTimeout(timer);
      logger.info({ groupId: config.groupId, timeZone: config.timeZone, consuming: subscription !== undefined }, 'intake started');
    },
    async stop() {
      stopped = true;
      pause.interrupt();
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
    registerMetrics(registry: Registry) {
      // Outbox backlog and the read model's consumer lag, under the names every service uses.
      registerServiceMetrics(registry, {
        service: 'intake',
        pool: deps.pool,
        schema: SCHEMA,
        bus: deps.bus,
        consumers: [{ group: config.groupId, topics: READ_MODEL_TOPICS }],
        logger,
      });
      registry.registerMetric(requestsTotal);
      registry.registerMetric(meterEventsTotal);
      registerProbeGauge(registry, {
        name: 'griddispatch_intake_work_orders_open',
        help: 'Open work orders (received … arrived, suspended) by status',
        labelNames: ['status'] as const,
        logger,
        async read() {
          // Spelled out (constants), so PostgreSQL matches requests_open_idx's predicate.
          const { rows } = await deps.pool.query<{ status: string; n: number }>(
            `SELECT status, count(*)::int AS n FROM intake.requests WHERE status IN (${BOARD_OPEN_STATUSES.map((st) => `'${st}'`).join(', ')}) GROUP BY status`,
          );
          const byStatus = new Map<string, number>(BOARD_OPEN_STATUSES.map((s) => [s, 0]));
          for (const r of rows) byStatus.set(r.status, r.n);
          return [...byStatus].map(([status, value]) => ({ labels: { status }, value }));
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
