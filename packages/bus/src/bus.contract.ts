import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { dlqTopic, parseEvent } from '@griddispatch/contracts';
import { DlqHeaders, type Bus, type IncomingMessage, type MessageHandler, type SubscribeOptions, type Subscription } from './types.ts';
import { BusNotIdleError, waitForIdle } from './wait-for-idle.ts';

// The behaviour services rely on, run against every Bus implementation (docs/architecture.md#run-modes: "the
// in-process bus and the Kafka bus pass the same contract test suite"). Each test gets its own
// bus with a fresh topic prefix, so runs against a shared broker never see each other's records.

export interface BusContractContext {
  /** Unique per test, e.g. `test.1a2b3c4d.`. */
  prefix: string;
}

export type MakeBus = (ctx: BusContractContext) => Bus | Promise<Bus>;

export interface BusContractOptions {
  /** Generous for a real broker (group joins, rebalances); short for the in-process bus. */
  idleTimeoutMs: number;
}

interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const text = (m: IncomingMessage) => m.value.toString('utf8');

export function runBusContract(name: string, makeBus: MakeBus, contractOptions: BusContractOptions): void {
  describe(`Bus contract: ${name}`, () => {
    const buses: Bus[] = [];
    let bus: Bus;
    let group = '';
    const idle = (b: Bus = bus) => waitForIdle(b, { timeoutMs: contractOptions.idleTimeoutMs });

    async function freshBus(): Promise<Bus> {
      const suffix = randomBytes(4).toString('hex');
      group = `test-${suffix}`;
      const made = await makeBus({ prefix: `test.${suffix}.` });
      buses.push(made);
      return made;
    }

    function sub(options: Partial<SubscribeOptions> & { handler: MessageHandler }): Promise<Subscription> {
      return bus.subscribe({ groupId: `${group}-a`, topics: ['orders'], retryBackoffMs: 10, ...options });
    }

    async function eventually(check: () => boolean, what: string): Promise<void> {
      const deadline = Date.now() + contractOptions.idleTimeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }

    afterEach(async () => {
      await Promise.all(buses.splice(0).map((b) => b.close()));
    });

    it('delivers a published record with its key, value and headers', async () => {
      bus = await freshBus();
      await bus.publish('orders', [
        { key: 'wo-1', value: '{"n":1}', headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'x-a': 'é' } },
      ]);
      const got: IncomingMessage[] = [];
      await sub({ handler: async (m) => void got.push(m) });
      await idle();
      expect(got).toHaveLength(1);
      const [m] = got as [IncomingMessage];
      expect(m).toMatchObject({ topic: 'orders', key: 'wo-1', attempt: 1 });
      expect(text(m)).toBe('{"n":1}');
      expect(m.headers).toMatchObject({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'x-a': 'é' });
      expect(m.partition).toBeGreaterThanOrEqual(0);
      expect(m.offset).toMatch(/^\d+$/);
      expect(bus.topicName('orders')).toMatch(/^test\.[0-9a-f]{8}\.orders$/);
    });

    it('keeps the order of records per key across many keys and partitions', async () => {
      bus = await freshBus();
      const keys = Array.from({ length: 40 }, (_, i) => `wo-${i}`);
      const perKey = 15;
      const seen = new Map<string, number[]>();
      await sub({
        handler: async (m) => {
          const [key, seq] = text(m).split('#') as [string, string];
          seen.set(key, [...(seen.get(key) ?? []), Number(seq)]);
          // Uneven handler times shake out any reordering between partitions or retries.
          if (Number(seq) % 7 === 0) await new Promise((r) => setTimeout(r, 1));
        },
      });
      for (let seq = 0; seq < perKey; seq += 1) {
        await bus.publish(
          'orders',
          keys.map((key) => ({ key, value: `${key}#${seq}` })),
        );
      }
      await idle();
      expect([...seen.keys()].sort()).toEqual([...keys].sort());
      for (const key of keys) expect(seen.get(key), key).toEqual(Array.from({ length: perKey }, (_, i) => i));
    });

    it('gives every consumer group every record', async () => {
      bus = await freshBus();
      const a: string[] = [];
      const b: string[] = [];
      await sub({ groupId: `${group}-a`, handler: async (m) => void a.push(text(m)) });
      await sub({ groupId: `${group}-b`, handler: async (m) => void b.push(text(m)) });
      const values = Array.from({ length: 30 }, (_, i) => `r${i}`);
      await bus.publish(
        'orders',
        values.map((v, i) => ({ key: `k${i % 7}`, value: v })),
      );
      await idle();
      expect([...a].sort()).toEqual([...values].sort());
      expect([...b].sort()).toEqual([...values].sort());
    });

    it('splits a group between its consumers without handling a record twice', async () => {
      bus = await freshBus();
      const byConsumer: [string[], string[]] = [[], []];
      await sub({ handler: async (m) => void byConsumer[0].push(text(m)) });
      await sub({ handler: async (m) => void byConsumer[1].push(text(m)) });
      const values = Array.from({ length: 90 }, (_, i) => `r${i}`);
      await bus.publish(
        'orders',
        values.map((v) => ({ key: `key-${v}`, value: v })),
      );
      await idle();
      const all = [...byConsumer[0], ...byConsumer[1]];
      expect(all).toHaveLength(values.length);
      expect([...all].sort()).toEqual([...values].sort());
      expect(byConsumer[0].length).toBeGreaterThan(0);
      expect(byConsumer[1].length).toBeGreaterThan(0);
    });

    it('retries a failing handler with the attempt number, then moves on in key order', async () => {
      bus = await freshBus();
      const calls: string[] = [];
      const dead: IncomingMessage[] = [];
      await sub({
        maxAttempts: 5,
        handler: async (m) => {
          calls.push(`${text(m)}@${m.attempt}`);
          if (text(m) === 'flaky' && m.attempt < 3) throw new Error('database busy');
        },
      });
      await sub({ groupId: `${group}-dlq`, topics: [dlqTopic('orders')], handler: async (m) => void dead.push(m) });
      await bus.publish('orders', [
        { key: 'wo-1', value: 'flaky' },
        { key: 'wo-1', value: 'next' },
      ]);
      await idle();
      expect(calls).toEqual(['flaky@1', 'flaky@2', 'flaky@3', 'next@1']);
      expect(dead).toEqual([]);
    });

    it('dead-letters a poison record after maxAttempts with the error in headers, and keeps consuming', async () => {
      bus = await freshBus();
      const handled: string[] = [];
      let poisonCalls = 0;
      const poison: { partition?: number; offset?: string } = {};
      const dead: IncomingMessage[] = [];
      await sub({
        maxAttempts: 3,
        handler: async (m) => {
          if (text(m) === 'poison') {
            poisonCalls += 1;
            poison.partition = m.partition;
            poison.offset = m.offset;
            throw new Error(`cannot apply ${text(m)}`);
          }
          handled.push(text(m));
        },
      });
      await sub({ groupId: `${group}-dlq`, topics: [dlqTopic('orders')], handler: async (m) => void dead.push(m) });
      await bus.publish('orders', [
        { key: 'wo-1', value: 'before' },
        { key: 'wo-1', value: 'poison', headers: { 'ce-id': 'evt-9' } },
        { key: 'wo-1', value: 'after' },
        { key: 'wo-2', value: 'other' },
      ]);
      await idle();
      expect(poisonCalls).toBe(3);
      expect(handled.filter((v) => v.startsWith('before') || v.startsWith('after'))).toEqual(['before', 'after']);
      expect(handled).toContain('other');
      expect(dead).toHaveLength(1);
      const [d] = dead as [IncomingMessage];
      expect(d.topic).toBe('orders.dlq');
      expect(d.key).toBe('wo-1');
      expect(text(d)).toBe('poison');
      expect(d.headers).toMatchObject({
        'ce-id': 'evt-9',
        [DlqHeaders.error]: 'Error: cannot apply poison',
        [DlqHeaders.attempts]: '3',
        [DlqHeaders.sourceTopic]: bus.topicName('orders'),
        [DlqHeaders.sourcePartition]: String(poison.partition),
        [DlqHeaders.sourceOffset]: poison.offset,
        [DlqHeaders.groupId]: `${group}-a`,
      });
    });

    it('retries a record past maxAttempts while its database is unreachable, and never dead-letters it', async () => {
      bus = await freshBus();
      const calls: string[] = [];
      const dead: IncomingMessage[] = [];
      await sub({
        maxAttempts: 2,
        handler: async (m) => {
          calls.push(`${text(m)}@${m.attempt}`);
          if (text(m) === 'during-restart' && m.attempt < 5) {
            throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
          }
        },
      });
      await sub({ groupId: `${group}-dlq`, topics: [dlqTopic('orders')], handler: async (m) => void dead.push(m) });
      await bus.publish('orders', [
        { key: 'wo-1', value: 'during-restart' },
        { key: 'wo-1', value: 'next' },
      ]);
      await idle();
      expect(calls).toEqual(['during-restart@1', 'during-restart@2', 'during-restart@3', 'during-restart@4', 'during-restart@5', 'next@1']);
      expect(dead).toEqual([]);
    });

    it('dead-letters a malformed event at once, without retrying', async () => {
      bus = await freshBus();
      const attempts: number[] = [];
      const dead: IncomingMessage[] = [];
      await sub({
        maxAttempts: 5,
        handler: async (m) => {
          attempts.push(m.attempt);
          parseEvent(m.value);
        },
      });
      await sub({ groupId: `${group}-dlq`, topics: [dlqTopic('orders')], handler: async (m) => void dead.push(m) });
      await bus.publish('orders', [{ key: 'wo-1', value: '{"not":"a cloudevent"}' }]);
      await idle();
      expect(attempts).toEqual([1]);
      expect(dead).toHaveLength(1);
      expect(dead[0]?.headers).toMatchObject({ [DlqHeaders.attempts]: '1', [DlqHeaders.errorName]: 'InvalidEventError' });
      expect(dead[0]?.headers[DlqHeaders.error]).toContain('not a CloudEvents 1.0 envelope');
    });

    it('leaves a record that fails during stop() uncommitted, for the next consumer of the group', async () => {
      bus = await freshBus();
      const started = deferred();
      const stopCalled = deferred();
      const first: number[] = [];
      const dead: IncomingMessage[] = [];
      const s1 = await sub({
        handler: async (m) => {
          first.push(m.attempt);
          started.resolve();
          await stopCalled.promise;
          throw new Error('connection closed by shutdown');
        },
      });
      await sub({ groupId: `${group}-dlq`, topics: [dlqTopic('orders')], handler: async (m) => void dead.push(m) });
      await bus.publish('orders', [{ key: 'wo-1', value: 'in-flight' }]);
      await started.promise;
      const stopping = s1.stop();
      stopCalled.resolve();
      await stopping;
      expect(first).toEqual([1]);
      expect(s1.isRunning()).toBe(false);

      const second: IncomingMessage[] = [];
      await sub({ handler: async (m) => void second.push(m) });
      await idle();
      expect(second.map(text)).toEqual(['in-flight']);
      expect(second[0]?.attempt).toBe(1);
      expect(dead).toEqual([]);
    });

    it('stop() waits for the in-flight handler and commits its record', async () => {
      bus = await freshBus();
      const started = deferred();
      const release = deferred();
      let finished = false;
      const s1 = await sub({
        handler: async () => {
          started.resolve();
          await release.promise;
          finished = true;
        },
      });
      await bus.publish('orders', [{ key: 'wo-1', value: 'slow' }]);
      await started.promise;
      let stopped = false;
      const stopping = s1.stop().then(() => {
        stopped = true;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(stopped).toBe(false);
      release.resolve();
      await stopping;
      expect(finished).toBe(true);

      // Committed: the group's next consumer starts after it.
      const next: string[] = [];
      await sub({ handler: async (m) => void next.push(text(m)) });
      await bus.publish('orders', [{ key: 'wo-1', value: 'marker' }]);
      await eventually(() => next.includes('marker'), 'the marker record');
      await idle();
      expect(next).toEqual(['marker']);
    });

    it('hands a batch handler consecutive records of one partition, in order, each once', async () => {
      bus = await freshBus();
      const keys = Array.from({ length: 10 }, (_, i) => `wo-${i}`);
      const perKey = 30;
      for (let seq = 0; seq < perKey; seq += 1)
        await bus.publish(
          'orders',
          keys.map((key) => ({ key, value: `${key}#${seq}` })),
        );
      const batches: IncomingMessage[][] = [];
      await sub({
        maxBatchSize: 50,
        batchHandler: async (messages) => void batches.push(messages),
        handler: async () => {
          throw new Error('the record path is not used while batches succeed');
        },
      });
      await idle();
      const seen = new Map<string, number[]>();
      for (const batch of batches) {
        expect(batch.length).toBeLessThanOrEqual(50);
        expect(new Set(batch.map((m) => m.partition)).size).toBe(1);
        const offsets = batch.map((m) => Number(m.offset));
        expect(offsets).toEqual(offsets.map((_, i) => (offsets[0] as number) + i));
        for (const m of batch) {
          expect(m.attempt).toBe(1);
          const [key, seq] = text(m).split('#') as [string, string];
          seen.set(key, [...(seen.get(key) ?? []), Number(seq)]);
        }
      }
      for (const key of keys) expect(seen.get(key), key).toEqual(Array.from({ length: perKey }, (_, i) => i));
      // 300 records fetched together arrive in far fewer calls than records.
      expect(batches.length).toBeLessThan(60);
    });

    it('applies a failed batch record by record: the poison record alone reaches the DLQ', async () => {
      bus = await freshBus();
      const applied: string[] = [];
      const dead: IncomingMessage[] = [];
      const values = Array.from({ length: 40 }, (_, i) => (i === 17 ? 'poison' : `r${i}`));
      await bus.publish(
        'orders',
        values.map((value) => ({ key: 'wo-1', value })),
      );
      await sub({
        maxAttempts: 2,
        batchHandler: async (messages) => {
          if (messages.some((m) => text(m) === 'poison')) throw new Error('batch contains a bad record');
          applied.push(...messages.map(text));
        },
        handler: async (m) => {
          if (text(m) === 'poison') throw new Error('cannot apply poison');
          applied.push(text(m));
        },
      });
      await sub({ groupId: `${group}-dlq`, topics: [dlqTopic('orders')], handler: async (m) => void dead.push(m) });
      await idle();
      expect(applied).toEqual(values.filter((v) => v !== 'poison'));
      expect(dead.map(text)).toEqual(['poison']);
      expect(dead[0]?.headers).toMatchObject({ [DlqHeaders.error]: 'Error: cannot apply poison', [DlqHeaders.attempts]: '2' });
    });

    it('waitForIdle waits for handlers and reports the lagging group when they do not finish', async () => {
      bus = await freshBus();
      const release = deferred();
      let handled = 0;
      await sub({
        handler: async (m) => {
          if (text(m) === 'stuck') await release.promise;
          handled += 1;
        },
      });
      await bus.publish(
        'orders',
        Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `r${i}` })),
      );
      await idle();
      expect(handled).toBe(20);

      await bus.publish('orders', [{ key: 'k1', value: 'stuck' }]);
      const error = await waitForIdle(bus, { timeoutMs: 300 }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(BusNotIdleError);
      expect((error as BusNotIdleError).lagging).toEqual([expect.objectContaining({ groupId: `${group}-a`, topic: 'orders', lag: 1 })]);
      release.resolve();
      await idle();
      expect(handled).toBe(21);
    });
  });
}
