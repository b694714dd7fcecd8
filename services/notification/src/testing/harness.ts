import { Writable } from 'node:stream';
import { createInProcessBus, waitForIdle, type Bus } from '@griddispatch/bus';
import { EventTypes, serializeEvent, type CloudEvent, type CreateSubscriptionBody } from '@griddispatch/contracts';
import { createLogger, type Logger } from '@griddispatch/observability';
import { freshDatabase, uniqueSuffix, type FreshDatabase } from '@griddispatch/testkit';
import { buildNotification, type NotificationHandle } from '../app.ts';
import { loadConfig, type NotificationConfig } from '../config.ts';
import type { Resolver } from '../channels/webhook-target.ts';
import { createSubscription } from '../use-cases/manage-subscriptions.ts';
import { startReceiver, type Receiver } from './receiver.ts';

// One notification service on a fresh PostgreSQL database and an in-process bus, with real
// HTTP receivers for webhooks, the WeCom robot and the SMS gateway, and a clock the test moves.

export interface ControlledClock {
  now: () => Date;
  advance(ms: number): void;
}

/** Starts at the real time (Standard Webhooks verification rejects timestamps > 5 min off). */
export function controlledClock(start = new Date()): ControlledClock {
  let t = start.getTime();
  return { now: () => new Date(t), advance: (ms) => void (t += ms) };
}

export interface Harness {
  db: FreshDatabase;
  bus: Bus;
  logger: Logger;
  /** Every log line the service wrote (JSON). */
  logs: string[];
  clock: ControlledClock;
  config: NotificationConfig;
  service: NotificationHandle;
  webhook: Receiver;
  robot: Receiver;
  smsGateway: Receiver;
  /** The operator desk's robot. */
  deskRobot: Receiver;
  publish(event: CloudEvent): Promise<void>;
  /** Publishes, waits until the consumers handled everything and the ext.* feed is published, then runs one delivery tick. */
  deliver(...events: CloudEvent[]): Promise<number>;
  /** Stops the service and builds a new one on the same database (a restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Run the delivery loop (prompt-delivery tests); default false: tests call tick(). */
  deliveryLoop?: boolean;
  random?: () => number;
  /** Resolves webhook hosts (hostile-target tests). Default: the system resolver. */
  resolve?: Resolver;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const db = await freshDatabase('notification');
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      if (process.env.TEST_LOG_ECHO) process.stdout.write(chunk);
      done();
    },
  });
  const logger = createLogger({ service: 'notification-test', level: 'info', destination });
  const clock = controlledClock();
  const [webhook, robot, smsGateway, deskRobot] = await Promise.all([
    startReceiver(),
    startReceiver(() => ({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' })),
    startReceiver(() => ({ status: 200, body: '{"ok":true}' })),
    startReceiver(() => ({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' })),
  ]);
  const config = loadConfig({
    NOTIFY_BACKOFF_BASE_MS: '1000',
    NOTIFY_BACKOFF_MAX_MS: '60000',
    NOTIFY_MAX_ATTEMPTS: '5',
    NOTIFY_HTTP_TIMEOUT_MS: '2000',
    NOTIFY_SMS_URL: smsGateway.url,
    NOTIFY_SMS_TEMPLATES: JSON.stringify({ 'dispatch.assigned': 'SMS_DISPATCH', 'sla.breached': 'SMS_BREACH' }),
    NOTIFY_WECOM_ROBOTS: JSON.stringify({ HH: `${robot.url}?key=robot-hh` }),
    NOTIFY_OPERATOR_WECOM_URL: `${deskRobot.url}?key=desk`,
    // The receivers listen on loopback, which production refuses (issue 17.1).
    NOTIFY_WEBHOOK_ALLOW_PRIVATE: '1',
    ...options.env,
  });
  const prefix = `test.${uniqueSuffix()}.`;
  let bus = createInProcessBus({ prefix, logger });
  const build = async () =>
    buildNotification({
      pool: db.pool,
      bus,
      logger,
      config,
      now: clock.now,
      random: options.random ?? (() => 1),
      deliveryLoop: options.deliveryLoop ?? false,
      // Long enough for an event overtaken by its context on another topic to find it on a busy machine.
      consumerRetry: { maxAttempts: 5, backoffMs: 50 },
      ...(options.resolve ? { resolve: options.resolve } : {}),
    });
  let service = await build();
  await service.start();

  const h: Harness = {
    db,
    get bus() {
      return bus;
    },
    logger,
    logs,
    clock,
    config,
    get service() {
      return service;
    },
    webhook,
    robot,
    smsGateway,
    deskRobot,
    async publish(event) {
      await bus.publish(EventTypes[event.type].topic, [{ key: event.subject, value: serializeEvent(event) }]);
    },
    async deliver(...events) {
      for (const e of events) await h.publish(e);
      await waitForIdle(bus);
      // The ext.* feed's rows are published too, so no test sees them half-way.
      await service.drained();
      return service.tick();
    },
    async restart() {
      await service.stop();
      await bus.close();
      bus = createInProcessBus({ prefix, logger });
      service = await build();
      await service.start();
    },
    async close() {
      await service.stop();
      await bus.close();
      await Promise.all([webhook.close(), robot.close(), smsGateway.close(), deskRobot.close()]);
      await db.drop();
    },
  };
  return h;
}

/** Creates a subscription directly through the use case (HTTP is tested in the routes tests); personal data unless `piiRead: false`. */
export function subscribe(
  h: Harness,
  body: CreateSubscriptionBody,
  caller: { keyName?: string; piiRead?: boolean } = {},
): Promise<{ id: string; secret: string }> {
  return createSubscription(h.db.pool, body, { keyName: caller.keyName ?? 'test', admin: true, piiRead: caller.piiRead ?? true, grids: null }, h.clock.now(), {
    maxPerKey: 1_000,
  });
}

export interface DeliveryRowView {
  id: string;
  event_id: string;
  channel: string;
  recipient: string;
  subscription_id: string | null;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
}

export async function deliveryRows(h: Harness, where = 'true', params: unknown[] = []): Promise<DeliveryRowView[]> {
  const { rows } = await h.db.pool.query<DeliveryRowView>(`SELECT * FROM notification.deliveries WHERE ${where} ORDER BY channel, recipient`, params);
  return rows;
}

/**
 * A second replica of the service on the same database, with its own (empty) bus: it shares
 * nothing with the first but PostgreSQL, as replicas in distributed mode.
 */
export async function startReplica(
  h: Harness,
  deliveryLoop: boolean,
  config: NotificationConfig = h.config,
): Promise<{ service: NotificationHandle; close(): Promise<void> }> {
  const bus = createInProcessBus({ prefix: `replica.${uniqueSuffix()}.`, logger: h.logger });
  const service = await buildNotification({ pool: h.db.pool, bus, logger: h.logger, config, now: h.clock.now, random: () => 1, deliveryLoop });
  await service.start();
  return {
    service,
    async close() {
      await service.stop();
      await bus.close();
    },
  };
}
