import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { runBusContract } from './bus.contract.ts';
import { createInProcessBus } from './in-process-bus.ts';
import { waitForIdle } from './wait-for-idle.ts';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

runBusContract('in-process', ({ prefix }) => createInProcessBus({ prefix, logger, partitions: 3 }), { idleTimeoutMs: 5_000 });

describe('in-process bus', () => {
  it('starts handlers after publish() returned, never inside it', async () => {
    const bus = createInProcessBus({ logger });
    const order: string[] = [];
    await bus.subscribe({ groupId: 'g', topics: ['t'], handler: async () => void order.push('handled') });
    const publishing = bus.publish('t', [{ key: 'k', value: 'v' }]);
    order.push('published');
    await publishing;
    await waitForIdle(bus);
    expect(order).toEqual(['published', 'handled']);
    await bus.close();
  });

  it('drops records every group has committed, and a late group starts at the oldest retained one', async () => {
    const bus = createInProcessBus({ logger, partitions: 1 });
    let handled = 0;
    await bus.subscribe({ groupId: 'early', topics: ['t'], handler: async () => void (handled += 1) });
    await bus.publish(
      't',
      Array.from({ length: 3000 }, (_, i) => ({ key: 'k', value: String(i) })),
    );
    await waitForIdle(bus);
    expect(handled).toBe(3000);
    const late: string[] = [];
    await bus.subscribe({ groupId: 'late', topics: ['t'], handler: async (m) => void late.push(m.value.toString()) });
    await bus.publish('t', [{ key: 'k', value: 'new' }]);
    await waitForIdle(bus);
    expect(late).toEqual(['new']);
    await bus.close();
  });

  it('a topic nobody reads keeps only its latest records per partition (bounded memory)', async () => {
    const bus = createInProcessBus({ logger, partitions: 1 });
    for (let i = 0; i < 25; i++)
      await bus.publish(
        'unread',
        Array.from({ length: 1000 }, (_, j) => ({ key: 'k', value: String(i * 1000 + j) })),
      );
    const got: string[] = [];
    await bus.subscribe({ groupId: 'late', topics: ['unread'], handler: async (m) => void got.push(m.value.toString()) });
    await waitForIdle(bus);
    // At most 10,000 kept (trimmed in chunks of 1,024 or more), the newest last, none lost in between.
    expect(got.length).toBeLessThanOrEqual(10_000 + 1024);
    expect(got.length).toBeGreaterThanOrEqual(10_000);
    expect(got.at(-1)).toBe('24999');
    expect(Number(got[0]) + got.length - 1).toBe(24_999);
    await bus.close();
  });

  it('a group joining with fromBeginning: false skips what was published before', async () => {
    const bus = createInProcessBus({ logger });
    await bus.publish('t', [{ key: 'k', value: 'old' }]);
    const got: string[] = [];
    await bus.subscribe({ groupId: 'g', topics: ['t'], fromBeginning: false, handler: async (m) => void got.push(m.value.toString()) });
    await bus.publish('t', [{ key: 'k', value: 'new' }]);
    await waitForIdle(bus);
    expect(got).toEqual(['new']);
    await bus.close();
  });

  it('close() drains in-flight handlers and refuses new publishes', async () => {
    const bus = createInProcessBus({ logger });
    let finished = false;
    await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async () => {
        await new Promise((r) => setTimeout(r, 50));
        finished = true;
      },
    });
    await bus.publish('t', [{ key: 'k', value: 'v' }]);
    await new Promise((r) => setTimeout(r, 5));
    await bus.close();
    expect(finished).toBe(true);
    await expect(bus.publish('t', [{ key: 'k', value: 'v' }])).rejects.toThrow('closed');
  });
});

describe('in-process bus fairness', () => {
  it('gives every partition a turn when a subscriber handles fewer partitions at once than are busy', async () => {
    const bus = createInProcessBus({ logger, partitions: 3 });
    const order: number[] = [];
    await bus.subscribe({ groupId: 'g', topics: ['t'], concurrency: 1, handler: async (m) => void order.push(m.partition) });
    // Keys spread over all three partitions, 300 records each.
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    await bus.publish(
      't',
      Array.from({ length: 2400 }, (_, i) => ({ key: keys[i % keys.length] as string, value: String(i) })),
    );
    await waitForIdle(bus);
    expect(new Set(order).size).toBe(3);
    // Partitions take turns: the first partition's records do not all come first.
    const firstPartition = order[0];
    expect(order.slice(0, 200).every((p) => p === firstPartition)).toBe(false);
    await bus.close();
  });
});
