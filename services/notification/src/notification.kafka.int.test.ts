import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, waitForIdle, type Bus } from '@griddispatch/bus';
import { EventTypes, serializeEvent, type CloudEvent } from '@griddispatch/contracts';
import { createLogger } from '@griddispatch/observability';
import { freshDatabase, kafkaBrokers, uniqueSuffix, type FreshDatabase } from '@griddispatch/testkit';
import { buildNotification, type NotificationHandle } from './app.ts';
import { loadConfig } from './config.ts';
import { assignedData, assignedEvent, breachedData, breachedEvent } from './testing/fixtures.ts';
import { startReceiver, type Receiver } from './testing/receiver.ts';
import { createSubscription } from './use-cases/manage-subscriptions.ts';

// End to end through a real Kafka broker: records on the topics as sla-timer and grid-routing
// publish them → consumers → PostgreSQL → delivery loop → real HTTP receivers.

let db: FreshDatabase;
let bus: Bus;
let service: NotificationHandle;
let webhook: Receiver;
let sms: Receiver;
const logger = createLogger({ service: 'notification-kafka-test', level: process.env.TEST_LOG_LEVEL ?? 'warn' });

beforeAll(async () => {
  db = await freshDatabase('notification_kafka');
  [webhook, sms] = await Promise.all([startReceiver(), startReceiver()]);
  bus = createKafkaBus({ brokers: await kafkaBrokers(), prefix: `test.${uniqueSuffix()}.`, clientId: 'notification-test', logger });
  const config = loadConfig({ NOTIFY_SMS_URL: sms.url, NOTIFY_BACKOFF_BASE_MS: '200', NOTIFY_WEBHOOK_ALLOW_PRIVATE: '1' });
  service = await buildNotification({ pool: db.pool, bus, logger, config, groupId: `notification-${uniqueSuffix()}` });
  await service.start();
});

afterAll(async () => {
  await service?.stop();
  await bus?.close();
  await Promise.all([webhook?.close(), sms?.close()]);
  await db?.drop();
});

async function publish(event: CloudEvent, key: string): Promise<void> {
  await bus.publish(EventTypes[event.type].topic, [{ key, value: serializeEvent(event) }]);
}

describe('notification through Kafka', () => {
  it('delivers a breach escalation as a signed webhook and an SMS to the supervisor, once', async () => {
    const sub = await createSubscription(
      db.pool,
      { url: webhook.url, events: ['sla.breached'] },
      { keyName: 'it', admin: true, piiRead: true, grids: null },
      new Date(),
      { maxPerKey: 20 },
    );
    const data = assignedData();
    await publish(assignedEvent(data), data.grid.id);
    const breach = breachedEvent(breachedData(data.workOrderId, { level: 2, notify: ['supervisor'], latenessMs: 900_000 }));
    await publish(breach, data.workOrderId);

    const [hook] = await webhook.waitFor(1, 30_000);
    expect(hook?.headers['webhook-id']).toBe(breach.id);
    expect(new Webhook(sub.secret).verify(hook!.body, hook!.headers)).toMatchObject({ id: breach.id, type: 'cn.griddispatch.sla.breached.v1' });
    const texts = await sms.waitFor(2, 30_000);
    expect(texts.map((r) => (JSON.parse(r.body) as { to: string }).to).sort()).toEqual(['+8613800000001', '+8613800000003']);

    // The broker redelivers the breach (a producer retry, a rebalance): nobody hears twice.
    await publish(breach, data.workOrderId);
    await waitForIdle(bus, { timeoutMs: 30_000 });
    await service.tick();
    await new Promise((r) => setTimeout(r, 300));
    expect(webhook.received).toHaveLength(1);
    expect(sms.received).toHaveLength(2);
    const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM notification.deliveries WHERE event_id = $1', [breach.id]);
    expect(Number(rows[0]!.n)).toBe(2);
  });
});
