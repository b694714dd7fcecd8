import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRetentionConfig, startRetention } from '@griddispatch/db';
import { buildHttpHost } from '@griddispatch/http';
import { CONSUMED_TOPICS } from './app.ts';
import { notificationRetention } from './retention.ts';
import { assignedData, assignedEvent, unroutableEvent } from './testing/fixtures.ts';
import { startHarness, subscribe, type Harness } from './testing/harness.ts';

/** Prometheus' key: /metrics needs the metrics:read scope. */
const SCRAPER = 'prometheus-scraper-0123456789';

// What an operator reads on /metrics of the notification service, and what the retention
// sweeper leaves behind: pending deliveries stay, finished ones go after GD_RETENTION_DAYS.

const DAY = 86_400_000;
let h: Harness;
let app: FastifyInstance;

beforeAll(async () => {
  h = await startHarness();
  app = await buildHttpHost({ pool: h.db.pool, logger: h.logger, services: [h.service], rateLimit: false, apiKeys: `prometheus:${SCRAPER}:metrics:read` });
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

async function scrape(): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${SCRAPER}` } });
  expect(res.statusCode).toBe(200);
  return res.body;
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function count(table: string, where = 'true'): Promise<number> {
  const { rows } = await h.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM notification.${table} WHERE ${where}`);
  return rows[0]!.n;
}

describe('notification /metrics', () => {
  it('shows deliveries by status and channel, attempts by outcome, consumer lag and the outbox', async () => {
    await subscribe(h, { url: h.webhook.url, events: ['dispatch.unroutable'] });
    h.webhook.respond(() => ({ status: 503 }));
    // The operator desk's robot answers; the integrator's webhook is down.
    await h.deliver(unroutableEvent());

    const first = await scrape();
    expect(value(first, 'griddispatch_notification_deliveries{status="pending",channel="webhook"}')).toBe(1);
    expect(value(first, 'griddispatch_notification_deliveries{status="pending",channel="wecom"}')).toBe(0);
    expect(value(first, 'griddispatch_notification_deliveries{status="failed",channel="webhook"}')).toBe(0);
    expect(value(first, 'griddispatch_notification_attempts_total{channel="webhook",outcome="retry"}')).toBe(1);
    expect(value(first, 'griddispatch_notification_attempts_total{channel="wecom",outcome="delivered"}')).toBe(1);
    for (const topic of CONSUMED_TOPICS) {
      expect(value(first, `griddispatch_consumer_lag{service="notification",group="notification.${topic}",topic="${topic}"}`)).toBe(0);
    }
    expect(value(first, 'griddispatch_consumer_lag_available{service="notification"}')).toBe(1);
    expect(value(first, 'griddispatch_outbox_backlog{service="notification"}')).toBe(0);

    // The receiver says the endpoint is gone: the delivery fails for good.
    h.webhook.respond(() => ({ status: 410 }));
    h.clock.advance(60_000);
    await h.service.tick();
    const second = await scrape();
    expect(value(second, 'griddispatch_notification_deliveries{status="pending",channel="webhook"}')).toBe(0);
    expect(value(second, 'griddispatch_notification_deliveries{status="failed",channel="webhook"}')).toBe(1);
  });
});

describe('notification retention', () => {
  it('deletes finished deliveries with their attempts once old, keeps pending ones and recent inbox marks', async () => {
    // Another subscriber whose endpoint keeps failing: its delivery is still owed when the sweep runs.
    await subscribe(h, { url: `${h.webhook.url}?down`, events: ['dispatch.unroutable'] });
    h.webhook.respond((r) => (r.path.includes('down') ? { status: 503 } : { status: 204 }));
    await h.deliver(unroutableEvent());
    await h.deliver(assignedEvent(assignedData({ incidentId: 'incident-1', incidentSize: 1 })));
    const pendingBefore = await count('deliveries', "status = 'pending'");
    expect(pendingBefore).toBe(1);
    const finishedBefore = await count('deliveries', "status <> 'pending'");
    expect(finishedBefore).toBeGreaterThanOrEqual(3);
    expect(await count('delivery_attempts')).toBeGreaterThan(finishedBefore);

    const config = loadRetentionConfig({});
    const sweepAt = (ms: number) =>
      startRetention({
        pool: h.db.pool,
        schema: 'notification',
        tables: notificationRetention(config),
        intervalMs: 0,
        now: () => new Date(h.clock.now().getTime() + ms),
      });

    // Inside the window nothing goes.
    const early = sweepAt(6 * DAY);
    expect(await early.sweep()).toEqual({
      swept: true,
      deleted: { deliveries: 0, incident_notices: 0, ack_codes: 0, callback_asks: 0, inbound_sms: 0, inbox: 0 },
    });
    await early.stop();

    const late = sweepAt(31 * DAY);
    const result = await late.sweep();
    await late.stop();
    expect(result.deleted.deliveries).toBe(finishedBefore);
    expect(result.deleted.incident_notices).toBe(1);
    expect(result.deleted.inbox).toBeGreaterThan(0);
    expect(await count('deliveries')).toBe(1);
    expect(await count('deliveries', "status = 'pending'")).toBe(1);
    // Attempts went with their deliveries; the pending one's stay.
    expect(await count('delivery_attempts', 'delivery_id NOT IN (SELECT id FROM notification.deliveries)')).toBe(0);
    expect(await count('delivery_attempts')).toBe(1);
    expect(await count('inbox')).toBe(0);
  });
});
