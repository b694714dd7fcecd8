import type { Pool } from 'pg';
import { Gauge, type Registry } from 'prom-client';
import type { Bus, Subscription } from '@griddispatch/bus';
import { migrate, startRelay, type Relay } from '@griddispatch/db';
import type { ServiceHandle } from '@griddispatch/http';
import type { Logger } from '@griddispatch/observability';
import { loadConfig, type IntakeConfig } from './config.ts';
import { READ_MODEL_TOPICS, readModelHandler } from './consumers/index.ts';
import { SCHEMA, type IntakeContext } from './context.ts';
import { adapterRoutes } from './routes/adapters.routes.ts';
import { open311Routes } from './routes/open311.routes.ts';
import { requestsRoutes } from './routes/requests.routes.ts';
import { workOrderRoutes } from './routes/work-orders.routes.ts';

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

  return {
    name: 'intake',
    routes: async (app) => {
      await app.register(requestsRoutes(ctx));
      await app.register(adapterRoutes({ ...ctx, timeZone: config.timeZone }));
      await app.register(workOrderRoutes(ctx));
      await app.register(open311Routes(ctx));
    },
    async start() {
      relay = startRelay({ pool: deps.pool, schema: SCHEMA, bus: deps.bus, logger, ...deps.relay });
      subscription = await deps.bus.subscribe({ groupId: config.groupId, topics: [...READ_MODEL_TOPICS], handler: readModelHandler(ctx) });
      logger.info({ groupId: config.groupId, timeZone: config.timeZone }, 'intake started');
    },
    async stop() {
      await subscription?.stop();
      subscription = undefined;
      // Unpublished outbox rows are durable; the next start (or another replica) publishes them.
      await relay?.stop();
      relay = undefined;
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
    },
  };
}
