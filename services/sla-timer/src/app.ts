import type { Registry } from 'prom-client';
import type { Bus, Subscription } from '@griddispatch/bus';
import { Topics } from '@griddispatch/contracts';
import {
  byTopic,
  loadRetentionConfig,
  migrate,
  startRelay,
  startRetention,
  type Pool,
  type Relay,
  type Retention,
  type RetentionConfig,
} from '@griddispatch/db';
import type { ServiceHandle } from '@griddispatch/http';
import type { Logger } from '@griddispatch/observability';
import type { Policy } from '@griddispatch/sla';
import { loadConfig, loadPolicy, type SlaTimerConfig } from './config.ts';
import type { ConsumerDeps } from './consumers/consume.ts';
import { dispatchAssignedConsumer } from './consumers/dispatch-assigned.ts';
import { workOrderUpdatedConsumer } from './consumers/workorder-updated.ts';
import { policyClocks } from './domain/work-clock.ts';
import { slaTimerMetrics } from './metrics.ts';
import { slaTimerRetention } from './retention.ts';
import { TimerScheduler, type TickResult } from './scheduler.ts';
import type { TimerContext } from './use-cases/context.ts';
import { SCHEMA } from './schema.ts';

export const MIGRATIONS = new URL('./migrations/', import.meta.url).pathname;
export const CONSUMER_GROUP = 'sla-timer';

export interface SlaTimerDeps {
  pool: Pool;
  bus: Bus;
  logger: Logger;
  /** Default: parsed from the environment (`loadConfig`). */
  config?: SlaTimerConfig;
  /** Calendars and time zone for working-time plans. Default: GD_SLA_POLICY, else the built-in policy. */
  policy?: Policy;
  now?: () => Date;
  /** Consumer group of the subscriptions. Default `sla-timer`. */
  groupId?: string;
  /**
   * `auto` (default): the scheduler runs on its own (in-memory timers + poll). `manual`: nothing
   * fires until `tick()` — for tests with an injected clock.
   */
  timers?: 'auto' | 'manual';
  /** Bus attempts per record and first retry delay. Default: the bus's (5 attempts from 100 ms). */
  consumerRetry?: { maxAttempts: number; backoffMs: number };
  /** Housekeeping of stopped work orders' timers and inbox marks. Default: `loadRetentionConfig()` (environment). */
  retention?: RetentionConfig;
}

export interface SlaTimerHandle extends ServiceHandle {
  /** Fires every timer due at `now()` (the manual mode's way to advance time). */
  tick(): Promise<TickResult>;
  /** Resolves when every event fired so far has been published. */
  drained(): Promise<void>;
  /** Due times held in the scheduler's in-memory schedule. */
  inMemoryTimers(): number;
}

/** Composition root: migrations and policy now; consumers, relay and scheduler in `start()`. */
export async function buildSlaTimer(deps: SlaTimerDeps): Promise<SlaTimerHandle> {
  const config = deps.config ?? loadConfig();
  const logger = deps.logger.child({ service: 'sla-timer' });
  await migrate(deps.pool, { schema: SCHEMA, folder: MIGRATIONS, logger });
  const policy = deps.policy ?? (await loadPolicy(config.slaPolicyPath));

  const ctx: TimerContext = {
    now: deps.now ?? (() => new Date()),
    lateAfterMs: config.lateAfterMs,
    logger,
    clockFor: policyClocks(policy, logger),
  };

  const groupId = deps.groupId ?? CONSUMER_GROUP;
  const consumedTopics = [Topics.dispatchAssigned, Topics.workordersEvents];
  const metrics = slaTimerMetrics({ pool: deps.pool, bus: deps.bus, logger, groupId, topics: consumedTopics, inMemoryTimers: () => scheduler.inMemory });
  const scheduler = new TimerScheduler({
    pool: deps.pool,
    ctx,
    logger,
    batchSize: config.batchSize,
    pollIntervalMs: config.pollIntervalMs,
    lookaheadMs: config.lookaheadMs,
    onFired: (fired) => metrics.fired(fired),
  });
  const consumerDeps: ConsumerDeps = { pool: deps.pool, ctx, onScheduled: (dues) => scheduler.scheduled(dues) };
  const consumer = byTopic({
    [Topics.dispatchAssigned]: dispatchAssignedConsumer(consumerDeps),
    [Topics.workordersEvents]: workOrderUpdatedConsumer(consumerDeps),
  });

  let subscription: Subscription | undefined;
  let relay: Relay | undefined;
  const retentionConfig = deps.retention ?? loadRetentionConfig();
  let retention: Retention | undefined;

  return {
    name: 'sla-timer',
    async start() {
      relay = startRelay({ pool: deps.pool, schema: SCHEMA, bus: deps.bus, logger });
      subscription = await deps.bus.subscribe({
        groupId,
        topics: consumedTopics,
        ...consumer,
        ...(deps.consumerRetry ? { maxAttempts: deps.consumerRetry.maxAttempts, retryBackoffMs: deps.consumerRetry.backoffMs } : {}),
      });
      if ((deps.timers ?? 'auto') === 'auto') scheduler.start();
      retention = startRetention({
        pool: deps.pool,
        schema: SCHEMA,
        tables: slaTimerRetention(retentionConfig),
        intervalMs: retentionConfig.intervalMs,
        now: ctx.now,
        logger,
      });
      logger.info({ timeZone: policy.timeZone, calendars: Object.keys(policy.calendars), ...config }, 'sla-timer started');
    },
    async stop() {
      await retention?.stop();
      retention = undefined;
      await subscription?.stop();
      subscription = undefined;
      await scheduler.stop();
      // Fired events not yet published stay in the outbox; the next start (or a replica) sends them.
      await relay?.stop();
      relay = undefined;
    },
    async ready() {
      if (!subscription?.isRunning()) return false;
      if ((deps.timers ?? 'auto') === 'auto' && !scheduler.isRunning) return false;
      return (await deps.pool.query('SELECT 1')).rowCount === 1;
    },
    tick: () => scheduler.tick(),
    async drained() {
      await relay?.drained();
    },
    inMemoryTimers: () => scheduler.inMemory,
    registerMetrics: (registry: Registry) => metrics.register(registry),
  };
}
