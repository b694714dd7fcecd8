import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@griddispatch/observability';
import type { ClaimedRow, LaneName } from './claim.ts';
import { Lane, type LaneOptions } from './lane.ts';
import { TokenBucket } from './rate-limiter.ts';
import { lanesOf, Wakeup } from './wakeup.ts';

// When a lane of the delivery worker claims: every claim is a statement on the busiest table, so
// a lane claims when rows may be due (start, an announcement, a timer, a full claim), not each
// time one of its sends finishes.

const row = (id: string): ClaimedRow => ({ id, channel: 'sms', subscription_id: null, priority: null }) as unknown as ClaimedRow;
const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

let lanes: Lane[] = [];
afterEach(async () => {
  await Promise.all(lanes.map((l) => l.stop()));
  lanes = [];
});

/** A lane whose claims hand out `due` rows (at most what it asks for) and whose sends take 5 ms. */
function lane(wakeup: Wakeup, name: LaneName, concurrency: number, due: string[], extra: Partial<LaneOptions> = {}) {
  /** Rows each claim returned. */
  const claims: number[] = [];
  const sent: string[] = [];
  const l = new Lane({
    name,
    concurrency,
    perSubscription: null,
    pollMs: 60_000,
    now: () => new Date(),
    logger: createLogger({ service: 'test', level: 'silent' }),
    signal: wakeup.signal(name),
    claim: async (limit) => {
      const rows = due.splice(0, limit).map(row);
      claims.push(rows.length);
      return rows;
    },
    release: async () => undefined,
    process: async (r) => {
      await tick(5);
      sent.push(r.id);
    },
    ...extra,
  });
  l.start();
  lanes.push(l);
  return { claims, sent, due };
}

describe('a delivery lane', () => {
  it('claims at start and after an announcement, not when a send finishes with nothing more due', async () => {
    const wakeup = new Wakeup(null as never, createLogger({ service: 'test', level: 'silent' }));
    const staff = lane(wakeup, 'staff', 4, ['a']);
    await tick(40);
    expect(staff.sent).toEqual(['a']);
    expect(staff.claims).toHaveLength(1);

    staff.due.push('b', 'c');
    wakeup.wake(['staff']);
    await tick(40);
    expect(staff.sent).toEqual(['a', 'b', 'c']);
    expect(staff.claims).toHaveLength(2);
  });

  it('claims again as sends finish while its claims come back full', async () => {
    const wakeup = new Wakeup(null as never, createLogger({ service: 'test', level: 'silent' }));
    const staff = lane(wakeup, 'staff', 2, ['a', 'b', 'c', 'd', 'e']);
    await tick(80);
    expect(staff.sent).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(staff.claims.reduce((a, b) => a + b, 0)).toBe(5);
    // At most the one claim after the last full one comes back empty; then the lane sleeps.
    expect(staff.claims.filter((n) => n === 0).length).toBeLessThanOrEqual(1);
    const claims = staff.claims.length;
    await tick(40);
    expect(staff.claims).toHaveLength(claims);
  });

  it('announcements wake only the lanes they name; an empty payload wakes all', async () => {
    const wakeup = new Wakeup(null as never, createLogger({ service: 'test', level: 'silent' }));
    const staff = lane(wakeup, 'staff', 4, []);
    const webhook = lane(wakeup, 'webhook', 4, []);
    const customer = lane(wakeup, 'customer', 4, []);
    await tick();
    wakeup.wake(lanesOf('staff,webhook'));
    await tick();
    expect([staff.claims.length, webhook.claims.length, customer.claims.length]).toEqual([2, 2, 1]);
    wakeup.wake(lanesOf(''));
    await tick();
    expect([staff.claims.length, webhook.claims.length, customer.claims.length]).toEqual([3, 3, 2]);
  });

  it('folds the announcements that arrive while it claims into one more claim', async () => {
    const wakeup = new Wakeup(null as never, createLogger({ service: 'test', level: 'silent' }));
    const customer = lane(wakeup, 'customer', 4, []);
    await tick();
    for (let i = 0; i < 10; i += 1) wakeup.wake(['customer']);
    await tick();
    expect(customer.claims).toHaveLength(2);
  });

  it("on a rate budget, claims a claim's worth of rows at a time, not one per token", async () => {
    const wakeup = new Wakeup(null as never, createLogger({ service: 'test', level: 'silent' }));
    // 100 a second, starting empty: a token every 10 ms.
    const bucket = new TokenBucket({ tokens: 100, perMs: 1000 }, () => new Date());
    bucket.take(100);
    const rows = Array.from({ length: 20 }, (_, i) => `r${i}`);
    const customer = lane(wakeup, 'customer', 8, rows, { minClaim: 4, budget: bucket });
    await tick(400);
    expect(customer.sent).toHaveLength(20);
    expect(customer.claims.length).toBeLessThanOrEqual(6);
    expect(Math.min(...customer.claims.slice(0, -1))).toBeGreaterThanOrEqual(4);
  });

  it('claims the rows it skipped for a subscription at its cap as soon as that subscription has room', async () => {
    const wakeup = new Wakeup(null as never, createLogger({ service: 'test', level: 'silent' }));
    const due = ['a1', 'a2', 'a3'];
    const sent: string[] = [];
    const withSub = (id: string) => ({ ...row(id), subscription_id: 'A' }) as ClaimedRow;
    const l = new Lane({
      name: 'webhook',
      concurrency: 4,
      perSubscription: 1,
      pollMs: 60_000,
      now: () => new Date(),
      logger: createLogger({ service: 'test', level: 'silent' }),
      signal: wakeup.signal('webhook'),
      claim: async (limit, exclude) => (exclude.includes('A') ? [] : due.splice(0, limit).map(withSub)),
      release: async (rows) => void due.unshift(...rows.map((r) => r.id)),
      process: async (r) => {
        await tick(5);
        sent.push(r.id);
      },
    });
    l.start();
    lanes.push(l);
    // One at a time (the cap), each claimed when the one before finished — not at the next poll.
    await tick(100);
    expect(sent).toEqual(['a1', 'a2', 'a3']);
  });
});
