import { afterEach, describe, expect, it } from 'vitest';
import { assignedData, assignedEvent, unroutableEvent } from '../testing/fixtures.ts';
import { deliveryRows, startHarness, subscribe, type Harness } from '../testing/harness.ts';
import { startReceiver, type Receiver } from '../testing/receiver.ts';

// Issue 17.5: integrators' receivers cannot slow down the messages to repair crews, nor hold the
// sender for ever. Real PostgreSQL and HTTP receivers; the delivery loop runs as in production.

let h: Harness | undefined;
let stalled: Receiver | undefined;
afterEach(async () => {
  await stalled?.close();
  await h?.close();
  h = undefined;
  stalled = undefined;
});

describe('a stalled webhook receiver', () => {
  it('delays no crew SMS, and holds at most 2 sends per subscription', async () => {
    h = await startHarness({
      deliveryLoop: true,
      env: { NOTIFY_HTTP_TIMEOUT_MS: '20000', NOTIFY_RATE_WEBHOOK: 'unlimited', NOTIFY_RATE_SMS: 'unlimited', NOTIFY_WEBHOOK_PER_SUBSCRIPTION: '2' },
    });
    // Answers nothing, ever (until the test closes it): every send waits for the 20 s timeout.
    const open = new Map<string, number>();
    let maxPerSubscription = 0;
    stalled = await startReceiver(
      (r) =>
        new Promise(() => {
          const n = (open.get(r.path) ?? 0) + 1;
          open.set(r.path, n);
          maxPerSubscription = Math.max(maxPerSubscription, n);
        }),
    );
    // 20 integrators' subscriptions (the default per-key cap) to the stalled receiver.
    for (let i = 0; i < 20; i++) await subscribe(h, { url: `${stalled.url}?s=${i}`, events: ['dispatch.assigned'] }, { keyName: `integrator-${i}` });
    // A backlog: 10 dispatches → 200 webhook deliveries, all stalling.
    for (let i = 0; i < 10; i++) await h.publish(assignedEvent());
    // The webhook lane's 32 slots (NOTIFY_WEBHOOK_CONCURRENCY) fill with hanging sends: before
    // issue 17 these were the same 32 slots the crew SMS needed.
    await stalled.waitFor(32, 10_000);
    const hanging = stalled.received.length;

    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = h.smsGateway.received.length;
      const t0 = performance.now();
      await h.publish(assignedEvent(assignedData({ incidentId: null })));
      const [sms] = (await h.smsGateway.waitFor(before + 1, 10_000)).slice(before);
      latencies.push(sms!.receivedAt - t0);
    }
    const max = Math.max(...latencies);
    console.info(
      `crew SMS latency with 20 stalled webhook subscriptions (${hanging} sends hanging): ${latencies.map((l) => l.toFixed(0)).join(', ')} ms; max ${max.toFixed(0)} ms`,
    );
    expect(max).toBeLessThan(1_000);
    expect(maxPerSubscription).toBeLessThanOrEqual(2);
    expect(maxPerSubscription).toBe(2);
    const pending = await deliveryRows(h, "channel = 'webhook' AND status = 'pending'");
    expect(pending.length).toBeGreaterThan(100);
  }, 60_000);
});

describe('a receiver that keeps failing', () => {
  it('is disabled after NOTIFY_WEBHOOK_DISABLE_AFTER without a success; a success in between resets the clock', async () => {
    h = await startHarness({ env: { NOTIFY_WEBHOOK_DISABLE_AFTER: '1d', NOTIFY_MAX_ATTEMPTS: '50' } });
    const sub = await subscribe(h, { url: h.webhook.url, events: ['dispatch.unroutable'] });
    const status = async () =>
      (
        await h!.db.pool.query<{ status: string; disabled_reason: string | null }>(
          'SELECT status, disabled_reason FROM notification.subscriptions WHERE id = $1',
          [sub.id],
        )
      ).rows[0]!;

    h.webhook.respond(() => ({ status: 500 }));
    await h.deliver(unroutableEvent());
    h.clock.advance(20 * 3_600_000);
    // A success 20 h in: the receiver is alive, the clock starts again.
    h.webhook.respond(() => ({ status: 204 }));
    await h.deliver(unroutableEvent());
    h.webhook.respond(() => ({ status: 503 }));
    h.clock.advance(20 * 3_600_000);
    await h.deliver(unroutableEvent());
    expect(await status()).toMatchObject({ status: 'active' });

    // 24 h after the first failure since that success, the next failure switches it off.
    h.clock.advance(24 * 3_600_000);
    await h.deliver(unroutableEvent());
    expect(await status()).toMatchObject({ status: 'disabled', disabled_reason: expect.stringMatching(/^no delivery succeeded since /) });
    const pending = await deliveryRows(h, "channel = 'webhook' AND status = 'pending'");
    expect(pending).toHaveLength(0);
    const received = h.webhook.received.length;
    await h.deliver(unroutableEvent());
    expect(h.webhook.received.length).toBe(received);
  });
});
