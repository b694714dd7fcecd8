import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Bus, Subscription } from '@griddispatch/bus';
import { Topics } from '@griddispatch/contracts';
import { byTopic, loadRetentionConfig, migrate, startRelay, startRetention, type Pool, type Relay, type Retention, type RetentionConfig } from '@griddispatch/db';
import { registerProbeGauge, registerServiceMetrics, type ServiceHandle } from '@griddispatch/http';
import type { Logger } from '@griddispatch/observability';
import type { Policy } from '@griddispatch/sla';
import { loadConfig, loadPolicy, type SlaTimerConfig } from './config.ts';
import { dispatchAssignedConsumer, type ConsumerDeps } from './consumers/dispatch-assigned.ts';
import { workOrderUpdatedConsumer } from './consumers/workorder-updated.ts';
import { WALL_CLOCK, workClock, type WorkClock } from './domain/work-clock.ts';
import { slaTimerRetention } from './retention.ts';
import { TimerScheduler, type TickResult } from './scheduler.ts';
import { SCHEMA, type TimerContext } from './use-cases/context.ts';
import type { FiredTimer } from './use-cases/fire-due-timers.ts';

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

  const clocks = new Map<string, WorkClock>();
  const ctx: TimerContext = {
    now: deps.now ?? (() => new Date()),
    lateAfterMs: config.lateAfterMs,
    logger,
    clockFor(name) {
      if (name === null) return WALL_CLOCK;
      let clock = clocks.get(name);
      if (!clock) {
        const calendar = policy.calendars[name];
        if (!calendar) logger.warn({ calendar: name }, 'plan names a calendar this policy does not have; counting clock time');
        clock = calendar ? workClock(calendar, policy.timeZone) : WALL_CLOCK;
        clocks.set(name, clock);
      }
      return clock;
    },
  };

  const firedListeners: ((fired: FiredTimer[]) => void)[] = [];
  const scheduler = new TimerScheduler({
    pool: deps.pool,
    ctx,
    logger,
    batchSize: config.batchSize,
    pollIntervalMs: config.pollIntervalMs,
    lookaheadMs: config.lookaheadMs,
    onFired: (fired) => {
      for (const listen of firedListeners) listen(fired);
    },
  });
  const consumerDeps: ConsumerDeps = { pool: deps.pool, ctx, onScheduled: (dues) => scheduler.scheduled(dues) };
  const consumer = byTopic({
    [Topics.dispatchAssigned]: dispatchAssignedConsumer(consumerDeps),
    [Topics.workordersEvents]: workOrderUpdatedConsumer(consumerDeps),
  });

  let subscription: Subscription | undefined;
  let relay: Relay | undefined;
  const groupId = deps.groupId ?? CONSUMER_GROUP;
  const consumedTopics = [Topics.dispatchAssigned, Topics.workordersEvents];
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
      retention = startRetention({ pool: deps.pool, schema: SCHEMA, tables: slaTimerRetention(retentionConfig), intervalMs: retentionConfig.intervalMs, now: ctx.now, logger });
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
    registerMetrics(registry: Registry) {
      const firedCounter = new Counter({
        name: 'griddispatch_sla_timers_fired_total',
        help: 'SLA timers fired, by kind and whether they fired late (after downtime)',
        labelNames: ['kind', 'late'] as const,
        registers: [registry],
      });
      const lateness = new Histogram({
        name: 'griddispatch_sla_firing_lateness_seconds',
        help: 'How long after its due time a timer fired',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600],
        registers: [registry],
      });
      firedListeners.push((fired) => {
        for (const f of fired) {
          firedCounter.inc({ kind: f.kind, late: String(f.late) });
          lateness.observe(Math.max(0, f.firedAt.getTime() - f.dueAt.getTime()) / 1000);
        }
      });
      registerProbeGauge(registry, {
        name: 'griddispatch_sla_timers_pending',
        help: 'SLA timers waiting to fire, by kind (paused ones — suspended work orders — not included)',
        labelNames: ['kind'] as const,
        logger,
        async read() {
          const { rows } = await deps.pool.query<{ kind: string; n: number }>(
            "SELECT kind, count(*)::int AS n FROM sla_timer.timers WHERE state = 'pending' GROUP BY kind",
          );
          const byKind = new Map<string, number>([['warning', 0], ['breach', 0], ['escalation', 0]]);
          for (const r of rows) byKind.set(r.kind, r.n);
          return [...byKind].map(([kind, value]) => ({ labels: { kind }, value }));
        },
      });
      new Gauge({
        name: 'griddispatch_sla_timers_in_memory',
        help: 'Due times held in the scheduler’s in-memory schedule',
        registers: [registry],
        collect() {
          this.set(scheduler.inMemory);
        },
      });
      registerServiceMetrics(registry, {
        service: 'sla-timer',
        pool: deps.pool,
        schema: SCHEMA,
        bus: deps.bus,
        consumers: [{ group: groupId, topics: consumedTopics }],
        logger,
      });
    },
  };
}
