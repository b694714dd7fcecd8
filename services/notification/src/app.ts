import type { Pool } from 'pg';
import type { Registry } from 'prom-client';
import type { Bus, Subscription } from '@griddispatch/bus';
import { EXTERNAL_SOURCE_TOPICS, Topics } from '@griddispatch/contracts';
import {
  loadRetentionConfig,
  migrate,
  startRelay,
  startRetention,
  type InboxConsumer,
  type Relay,
  type Retention,
  type RetentionConfig,
} from '@griddispatch/db';
import type { ServiceHandle } from '@griddispatch/http';
import type { Logger } from '@griddispatch/observability';
import { createLogChannel } from './channels/log.ts';
import { createSmsChannel } from './channels/sms.ts';
import type { Channel, ChannelName } from './channels/types.ts';
import { createRedactor } from './channels/personal-data.ts';
import { createWebhookChannel } from './channels/webhook.ts';
import { systemResolver, type Resolver, type TargetPolicy } from './channels/webhook-target.ts';
import { createWecomRobotChannel } from './channels/wecom-robot.ts';
import { loadConfig, type NotificationConfig } from './config.ts';
import type { ConsumerDeps } from './consumers/consume.ts';
import { dispatchAssignedConsumer } from './consumers/dispatch-assigned.ts';
import { callbackRequestedConsumer } from './consumers/callback-requested.ts';
import { dispatchUnroutableConsumer } from './consumers/dispatch-unroutable.ts';
import { customerNoticeConsumer } from './consumers/customer-notice.ts';
import { incidentEventConsumer } from './consumers/incident-event.ts';
import { slaBreachedConsumer } from './consumers/sla-breached.ts';
import { slaWarningConsumer } from './consumers/sla-warning.ts';
import { workOrderUpdatedConsumer } from './consumers/workorder-updated.ts';
import { DeliveryWorker } from './delivery/worker.ts';
import { notificationMetrics } from './metrics.ts';
import { notificationRetention } from './retention.ts';
import { deliveryRoutes } from './routes/deliveries.routes.ts';
import { inboundSmsRoutes } from './routes/inbound-sms.routes.ts';
import { subscriptionRoutes } from './routes/subscriptions.routes.ts';
import { SCHEMA } from './schema.ts';
import { limitSubscriptionsToKeys } from './use-cases/key-grids.ts';
import { storedPiiHashKey } from './use-cases/pii-hash-key.ts';
import { customerMessages } from './templates/customer.ts';
import { catalog } from './templates/index.ts';
import { replyCatalog } from './templates/replies.ts';

export const MIGRATIONS = new URL('./migrations/', import.meta.url).pathname;
/** Every topic whose masked copy it publishes on `ext.*` (it reads them all for that), and what it sends to customers. */
export const CONSUMED_TOPICS = [...EXTERNAL_SOURCE_TOPICS, Topics.customersNotices, Topics.callbacksEvents] as const;

/** Bus retries per record: enough for a work order's dispatch.assigned to catch up with its SLA events. */
const CONSUMER_RETRY = { maxAttempts: 5, backoffMs: 500 };

export interface NotificationDeps {
  pool: Pool;
  bus: Bus;
  logger: Logger;
  /** Default: parsed from the environment (`loadConfig`). */
  config?: NotificationConfig;
  /** The worker's and consumers' clock (due times, backoff, signatures). */
  now?: () => Date;
  /** Jitter source of the backoff. */
  random?: () => number;
  /** Prefix of the consumer groups (one per topic: `<prefix>.<topic>`). Default `config.groupId` (`notification`). */
  groupId?: string;
  /**
   * false: `start()` runs the consumers but not the delivery loop; tests drive sends with
   * `tick()` and a controlled clock. Default true.
   */
  deliveryLoop?: boolean;
  /** Bus attempts per record and first retry delay. Default 5 attempts from 500 ms. */
  consumerRetry?: { maxAttempts: number; backoffMs: number };
  /** Resolves webhook hosts (tests inject names that resolve to chosen addresses). Default: the system resolver. */
  resolve?: Resolver;
  /** Housekeeping of finished deliveries and inbox marks. Default: `loadRetentionConfig()` (environment). */
  retention?: RetentionConfig;
}

export interface NotificationHandle extends ServiceHandle {
  /** Sends every delivery due now (by the injected clock) and records the results. */
  tick(): Promise<number>;
  /** Pending deliveries. */
  backlog(): Promise<number>;
  /** Resolves once the ext.* feed's outbox rows written so far are published. */
  drained(): Promise<void>;
}

/** Composition root: migrations, channels, worker; consumers and the delivery loop start in `start()`. */
export async function buildNotification(deps: NotificationDeps): Promise<NotificationHandle> {
  const config = deps.config ?? loadConfig();
  const logger = deps.logger.child({ service: 'notification' });
  const now = deps.now ?? (() => new Date());
  await migrate(deps.pool, { schema: SCHEMA, folder: MIGRATIONS, logger });

  const target: TargetPolicy = { allowPrivate: config.webhook.allowPrivate, resolve: deps.resolve ?? systemResolver };
  if (config.webhook.allowPrivate)
    logger.warn('NOTIFY_WEBHOOK_ALLOW_PRIVATE=1: webhooks may reach loopback and private addresses (development and tests only)');
  const redactor = createRedactor(config.piiHashKey ?? (await storedPiiHashKey(deps.pool)));
  const channels: Record<ChannelName, Channel> = {
    webhook: createWebhookChannel({ timeoutMs: config.httpTimeoutMs, target, redactor }),
    wecom: createWecomRobotChannel({ timeoutMs: config.httpTimeoutMs }),
    sms: createSmsChannel(config.sms, config.smsTemplates, config.httpTimeoutMs, logger),
    log: createLogChannel(logger),
  };

  const groupPrefix = deps.groupId ?? config.groupId;
  const metrics = notificationMetrics({
    pool: deps.pool,
    bus: deps.bus,
    logger,
    consumers: CONSUMED_TOPICS.map((topic) => ({ group: `${groupPrefix}.${topic}`, topics: [topic] })),
  });

  const worker = new DeliveryWorker({
    pool: deps.pool,
    channels,
    retry: config.retry,
    rates: config.rates,
    concurrency: config.concurrency,
    customerConcurrency: config.customerConcurrency,
    webhook: config.webhook,
    pollMs: config.pollMs,
    leaseMs: Math.max(60_000, 3 * config.httpTimeoutMs),
    now,
    ...(deps.random ? { random: deps.random } : {}),
    logger,
    onAttempt: (channel, outcome, latencyMs) => metrics.attempt(channel, outcome, latencyMs),
  });

  const retry = deps.consumerRetry ?? CONSUMER_RETRY;
  const consumerDeps: ConsumerDeps = {
    pool: deps.pool,
    logger,
    config,
    catalog: catalog(config.locale, config.timeZone),
    replies: replyCatalog(config.locale),
    now,
    wake: () => worker.wake(),
    maxAttempts: retry.maxAttempts,
    externalFeed: config.externalFeed ? redactor : null,
  };
  const consumers: Record<(typeof CONSUMED_TOPICS)[number], InboxConsumer> = {
    [Topics.dispatchAssigned]: dispatchAssignedConsumer(consumerDeps),
    [Topics.dispatchUnroutable]: dispatchUnroutableConsumer(consumerDeps),
    [Topics.workordersEvents]: workOrderUpdatedConsumer(consumerDeps),
    [Topics.slaWarnings]: slaWarningConsumer(consumerDeps),
    [Topics.slaBreaches]: slaBreachedConsumer(consumerDeps),
    [Topics.incidentsEvents]: incidentEventConsumer(consumerDeps),
    [Topics.customersNotices]: customerNoticeConsumer({ ...consumerDeps, renderCustomer: customerMessages(config.locale, config.timeZone, now) }),
    [Topics.callbacksEvents]: callbackRequestedConsumer(consumerDeps),
  };

  const loop = deps.deliveryLoop ?? true;
  let subscriptions: Subscription[] = [];
  const retentionConfig = deps.retention ?? loadRetentionConfig();
  let retention: Retention | undefined;
  // Publishes the ext.* feed's outbox rows (publish-external.ts) and the SMS replies matched here (replies.received).
  let relay: Relay | undefined;

  return {
    name: 'notification',
    routes: async (app) => {
      await app.register(subscriptionRoutes({ pool: deps.pool, now, limits: { maxPerKey: config.webhook.maxPerKey, target } }));
      await app.register(deliveryRoutes({ pool: deps.pool }));
      await app.register(
        inboundSmsRoutes({
          pool: deps.pool,
          logger,
          config,
          replies: consumerDeps.replies,
          now,
          wake: () => worker.wake(),
          onOutcome: (r) => metrics.inboundSms(r),
        }),
      );
    },
    async start() {
      const limited = await limitSubscriptionsToKeys(deps.pool, now());
      if (limited.narrowed + limited.disabled > 0) logger.warn(limited, 'subscriptions narrowed to the grids their API keys allow now');
      relay = startRelay({ pool: deps.pool, schema: SCHEMA, bus: deps.bus, logger });
      if (loop) await worker.start();
      // One consumer group per topic: a topic whose records wait (an SLA event whose work order
      // is not known yet) never holds up another's, and each topic's lag shows on its own.
      const joined = await Promise.allSettled(
        Object.entries(consumers).map(([topic, consumer]) =>
          deps.bus.subscribe({
            groupId: `${groupPrefix}.${topic}`,
            topics: [topic],
            maxAttempts: retry.maxAttempts,
            retryBackoffMs: retry.backoffMs,
            ...consumer,
          }),
        ),
      );
      subscriptions = joined.flatMap((j) => (j.status === 'fulfilled' ? [j.value] : []));
      const failed = joined.find((j): j is PromiseRejectedResult => j.status === 'rejected');
      if (failed) {
        await Promise.all(subscriptions.map((sub) => sub.stop()));
        subscriptions = [];
        await worker.stop();
        await relay.stop();
        relay = undefined;
        throw failed.reason;
      }
      retention = startRetention({
        pool: deps.pool,
        schema: SCHEMA,
        tables: notificationRetention(retentionConfig),
        intervalMs: retentionConfig.intervalMs,
        now,
        logger,
      });
      logger.info({ locale: config.locale, timeZone: config.timeZone, sms: config.sms?.vendor ?? 'log', deliveryLoop: loop }, 'notification started');
    },
    async stop() {
      await retention?.stop();
      retention = undefined;
      await Promise.all(subscriptions.map((sub) => sub.stop()));
      subscriptions = [];
      await worker.stop();
      // Unpublished outbox rows are durable; the next start (or another replica) publishes them.
      await relay?.stop();
      relay = undefined;
    },
    async drained() {
      await relay?.drained();
    },
    async ready() {
      if (subscriptions.length === 0 || !subscriptions.every((sub) => sub.isRunning())) return false;
      if (loop && !worker.isRunning()) return false;
      return (await deps.pool.query('SELECT 1')).rowCount === 1;
    },
    tick: () => worker.tick(),
    backlog: () => worker.backlog(),
    registerMetrics: (registry: Registry) => metrics.register(registry),
  };
}
