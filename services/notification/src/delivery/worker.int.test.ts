import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForIdle } from '@griddispatch/bus';
import { listDeliveries } from '../use-cases/list-deliveries.ts';
import { assignedEvent, unroutableEvent } from '../testing/fixtures.ts';
import { deliveryRows, startHarness, startReplica, subscribe, type Harness } from '../testing/harness.ts';

// The delivery worker against a real PostgreSQL and real HTTP receivers, time moved by hand.

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function webhookRow(harness: Harness) {
  const [row] = await deliveryRows(harness, "channel = 'webhook'");
  return row!;
}

async function attemptLog(harness: Harness, deliveryId: string) {
  const { rows } = await harness.db.pool.query<{ attempt: number; started_at: Date; outcome: string; status_code: number | null }>(
    'SELECT attempt, started_at, outcome, status_code FROM notification.delivery_attempts WHERE delivery_id = $1 ORDER BY attempt',
    [deliveryId],
  );
  return rows;
}

describe('retries', () => {
  it('retries a receiver that fails three times with exponential backoff, then delivers', async () => {
    h = await startHarness();
    const sub = await subscribe(h, { url: h.webhook.url, events: ['dispatch.unroutable'] });
    h.webhook.respond((r) => (r.n <= 3 ? { status: 503 } : { status: 204 }));
    await h.deliver(unroutableEvent());
    const row = await webhookRow(h);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 503 });

    // Backoff base 1 s, doubling (jitter pinned to its upper bound): due after 1 s, 2 s, 4 s.
    for (const wait of [1000, 2000, 4000]) {
      h.clock.advance(wait - 1);
      expect(await h.service.tick()).toBe(0);
      h.clock.advance(1);
      expect(await h.service.tick()).toBe(1);
    }
    expect(await webhookRow(h)).toMatchObject({ status: 'delivered', attempts: 4, last_status_code: 204, next_attempt_at: null });

    const log = await attemptLog(h, row.id);
    expect(log.map((a) => [a.attempt, a.outcome, a.status_code])).toEqual([
      [1, 'retry', 503],
      [2, 'retry', 503],
      [3, 'retry', 503],
      [4, 'delivered', 204],
    ]);
    const gaps = log.slice(1).map((a, i) => a.started_at.getTime() - log[i]!.started_at.getTime());
    expect(gaps).toEqual([1000, 2000, 4000]);

    // Every attempt carries the same webhook-id (the CloudEvent id) and a fresh, valid signature.
    expect(new Set(h.webhook.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const last = h.webhook.received[3]!;
    expect(() => new Webhook(sub.secret).verify(last.body, last.headers)).not.toThrow();
  });

  it('dead-letters a delivery whose receiver always answers 500, visible and logged', async () => {
    h = await startHarness();
    const sub = await subscribe(h, { url: h.webhook.url, events: ['dispatch.unroutable'] });
    h.webhook.respond(() => ({ status: 500, body: 'database is down' }));
    const event = unroutableEvent();
    await h.deliver(event);
    for (let i = 0; i < 10; i++) {
      h.clock.advance(60_000);
      await h.service.tick();
    }
    expect(h.webhook.received).toHaveLength(5);
    expect(await webhookRow(h)).toMatchObject({ status: 'dead', attempts: 5, last_status_code: 500, last_error: 'http_500', next_attempt_at: null });

    const page = await listDeliveries(
      h.db.pool,
      { subscriptionId: sub.id, status: 'dead', limit: 10 },
      { keyName: 'test', admin: false, piiRead: false, grids: null },
    );
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ eventId: event.id, status: 'dead', attempts: 5 });
    expect(page.items[0]!.history.map((a) => a.statusCode)).toEqual([500, 500, 500, 500, 500]);
    const dead = h.logs.map((l) => JSON.parse(l) as { msg: string; eventId?: string }).filter((l) => l.msg === 'delivery dead-lettered after its last attempt');
    expect(dead).toEqual([expect.objectContaining({ eventId: event.id })]);
  });

  it('honours Retry-After of a 429 instead of its own backoff', async () => {
    h = await startHarness();
    await subscribe(h, { url: h.webhook.url, events: ['dispatch.unroutable'] });
    h.webhook.respond((r) => (r.n === 1 ? { status: 429, headers: { 'retry-after': '7' } } : { status: 200 }));
    await h.deliver(unroutableEvent());
    const start = h.clock.now().getTime();
    expect((await webhookRow(h)).next_attempt_at?.getTime()).toBe(start + 7000);
    h.clock.advance(6999);
    expect(await h.service.tick()).toBe(0);
    h.clock.advance(1);
    expect(await h.service.tick()).toBe(1);
    expect(await webhookRow(h)).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('does not retry other 4xx answers', async () => {
    h = await startHarness();
    await subscribe(h, { url: h.webhook.url, events: ['dispatch.unroutable'] });
    h.webhook.respond(() => ({ status: 401, body: '{"error":"bad signature"}' }));
    await h.deliver(unroutableEvent());
    h.clock.advance(3_600_000);
    expect(await h.service.tick()).toBe(0);
    expect(await webhookRow(h)).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 401 });
  });
});

describe('410 Gone', () => {
  it('disables the subscription, drops its pending deliveries and records no further ones', async () => {
    h = await startHarness();
    const sub = await subscribe(h, { url: h.webhook.url, events: ['dispatch.unroutable'] });
    h.webhook.respond(() => ({ status: 500 }));
    const first = unroutableEvent();
    await h.deliver(first); // fails, retry scheduled
    h.webhook.respond(() => ({ status: 410 }));
    await h.deliver(unroutableEvent()); // 410 → disabled
    expect(h.webhook.received).toHaveLength(2);

    const { rows } = await h.db.pool.query('SELECT status, disabled_reason FROM notification.subscriptions WHERE id = $1', [sub.id]);
    expect(rows[0]).toMatchObject({ status: 'disabled', disabled_reason: expect.stringMatching(/^receiver answered HTTP 410 Gone/) });
    const [retrying] = await deliveryRows(h, 'event_id = $1 AND channel = $2', [first.id, 'webhook']);
    expect(retrying).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/^subscription disabled/) });

    await h.deliver(unroutableEvent());
    h.clock.advance(3_600_000);
    await h.service.tick();
    expect(h.webhook.received).toHaveLength(2);
    expect(await deliveryRows(h, "channel = 'webhook'")).toHaveLength(2);
  });
});

describe('rate limits', () => {
  it('holds a channel to its token bucket without spending attempts', async () => {
    h = await startHarness({ env: { NOTIFY_RATE_WEBHOOK: '2/s' } });
    await subscribe(h, { url: h.webhook.url, events: ['dispatch.unroutable'] });
    await h.deliver(unroutableEvent(), unroutableEvent(), unroutableEvent(), unroutableEvent(), unroutableEvent());
    expect(h.webhook.received).toHaveLength(2);
    h.clock.advance(1000);
    await h.service.tick();
    expect(h.webhook.received).toHaveLength(4);
    h.clock.advance(1000);
    await h.service.tick();
    expect(h.webhook.received).toHaveLength(5);
    expect((await deliveryRows(h, "channel = 'webhook'")).map((r) => [r.status, r.attempts])).toEqual(Array(5).fill(['delivered', 1]));
  });

  it('puts each delivery over the rate off once, to its turn, instead of re-claiming the backlog', async () => {
    h = await startHarness({ env: { NOTIFY_RATE_WEBHOOK: '2/s' } });
    await subscribe(h, { url: h.webhook.url, events: ['dispatch.unroutable'] });
    await h.deliver(unroutableEvent(), unroutableEvent(), unroutableEvent(), unroutableEvent(), unroutableEvent());
    const waiting = await deliveryRows(h, "channel = 'webhook' AND status = 'pending'");
    const now = h.clock.now().getTime();
    const offsets = waiting.map((r) => new Date(r.next_attempt_at!).getTime() - now).sort((a, b) => a - b);
    expect(offsets).toEqual([500, 1000, 1500]);
    h.clock.advance(500);
    expect(await h.service.tick()).toBe(1); // only the row whose turn it is
    expect(h.webhook.received).toHaveLength(3);
  });
});

describe('replicas', () => {
  it('never sends one delivery twice when two workers claim at the same time', async () => {
    h = await startHarness();
    const replica = await startReplica(h, false);
    try {
      await subscribe(h, { url: h.webhook.url, events: ['dispatch.unroutable'] });
      for (let i = 0; i < 60; i++) await h.publish(unroutableEvent());
      await waitForIdle(h.bus);
      const [a, b] = await Promise.all([h.service.tick(), replica.service.tick()]);
      expect(a + b).toBe(120); // claimed: 60 webhooks + 60 desk-robot cards (those mostly deferred by the robot's rate limit)
      expect(h.webhook.received).toHaveLength(60);
      expect(new Set(h.webhook.received.map((r) => r.headers['webhook-id'])).size).toBe(60);
    } finally {
      await replica.close();
    }
  });

  it('takes over a delivery whose worker died once its lease has run out', async () => {
    h = await startHarness();
    await subscribe(h, { url: h.webhook.url, events: ['dispatch.unroutable'] });
    await h.publish(unroutableEvent());
    await waitForIdle(h.bus);
    // A worker claimed it (lease of 60 s) and was killed before sending.
    await h.db.pool.query("UPDATE notification.deliveries SET next_attempt_at = next_attempt_at + interval '60 seconds'");
    expect(await h.service.tick()).toBe(0);
    h.clock.advance(60_000);
    expect(await h.service.tick()).toBe(2);
    expect(h.webhook.received).toHaveLength(1);
  });
});

describe('prompt delivery', () => {
  it('sends as soon as the consumer records a delivery, without waiting for a poll', async () => {
    h = await startHarness({ deliveryLoop: true, env: { NOTIFY_POLL_MS: '60000' } });
    await subscribe(h, { url: h.webhook.url, events: ['dispatch.assigned'] });
    const t0 = performance.now();
    await h.publish(assignedEvent());
    await h.webhook.waitFor(1, 5000);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('wakes a worker in another replica through LISTEN/NOTIFY', async () => {
    h = await startHarness({ env: { NOTIFY_POLL_MS: '60000' } });
    const sender = await startReplica(h, true, { ...h.config, pollMs: 60_000 });
    try {
      await subscribe(h, { url: h.webhook.url, events: ['dispatch.assigned'] });
      // Let the replica's loop go idle (its first look found nothing due).
      await new Promise((r) => setTimeout(r, 200));
      await h.publish(assignedEvent());
      await h.webhook.waitFor(1, 5000);
    } finally {
      await sender.close();
    }
  });
});
