import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_TOPICS, dlqTopic, EXTERNAL_TOPICS } from '@griddispatch/contracts';
import { runBusContract } from './bus.contract.ts';
import { createKafkaBus } from './kafka-bus.ts';
import { loadTopicsFile } from './topics.ts';
import { waitForIdle } from './wait-for-idle.ts';

const brokersEnv = process.env.KAFKA_BROKERS;
if (!brokersEnv) throw new Error('KAFKA_BROKERS is not set: the Kafka bus contract runs against a real broker (see packages/testkit global setup)');
const brokers = brokersEnv.split(',');
const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

runBusContract('kafka', ({ prefix }) => createKafkaBus({ brokers, prefix, clientId: 'bus-contract', logger }), { idleTimeoutMs: 30_000 });

describe('Kafka bus', () => {
  const admin = new Kafka({ clientId: 'bus-test-admin', brokers, logLevel: logLevel.NOTHING }).admin();
  afterAll(() => admin.disconnect());

  it('creates the DESIGN topics, their DLQs and the ext.* topics with the partition counts of infra/kafka/topics.json', async () => {
    const prefix = `test.${randomBytes(4).toString('hex')}.`;
    const bus = createKafkaBus({ brokers, prefix, clientId: 'bus-topics', logger });
    try {
      await bus.subscribe({ groupId: `topics-${prefix}`, topics: [...ALL_TOPICS], handler: async () => undefined });
      // The ext.* topics nobody of ours consumes are made by their first publish.
      for (const topic of EXTERNAL_TOPICS) await bus.publish(topic, [{ key: 'k', value: '{}' }]);
      await admin.connect();
      const { topics } = await admin.fetchTopicMetadata({
        topics: [...ALL_TOPICS.flatMap((t) => [bus.topicName(t), bus.topicName(dlqTopic(t))]), ...EXTERNAL_TOPICS.map((t) => bus.topicName(t))],
      });
      const file = loadTopicsFile();
      for (const def of file.topics) {
        expect(topics.find((t) => t.name === `${prefix}${def.name}`)?.partitions, def.name).toHaveLength(def.partitions);
      }
    } finally {
      await bus.close();
    }
  });

  it('publishes concurrently without losing or reordering records of a key (idempotent producer)', async () => {
    const prefix = `test.${randomBytes(4).toString('hex')}.`;
    const bus = createKafkaBus({ brokers, prefix, clientId: 'bus-concurrent', logger });
    try {
      const seen = new Map<string, number[]>();
      await bus.subscribe({
        groupId: `concurrent-${prefix}`,
        topics: ['orders'],
        handler: async (m) => {
          const [key, seq] = m.value.toString().split('#') as [string, string];
          seen.set(key, [...(seen.get(key) ?? []), Number(seq)]);
        },
      });
      // 200 overlapping publish() calls; each key's records are published in sequence order.
      await Promise.all(
        Array.from({ length: 200 }, (_, seq) =>
          bus.publish(
            'orders',
            [0, 1, 2, 3].map((k) => ({ key: `k${k}`, value: `k${k}#${seq}` })),
          ),
        ),
      );
      await waitForIdle(bus, { timeoutMs: 30_000 });
      for (const k of [0, 1, 2, 3]) expect(seen.get(`k${k}`)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    } finally {
      await bus.close();
    }
  });

  it('keeps one group name of two prefixes apart: both deployments read all their records', async () => {
    const suffix = randomBytes(4).toString('hex');
    const groupId = `shared-${suffix}`;
    const a = createKafkaBus({ brokers, prefix: `test.${suffix}.a.`, clientId: 'bus-group-a', logger });
    const b = createKafkaBus({ brokers, prefix: `test.${suffix}.b.`, clientId: 'bus-group-b', logger });
    try {
      const gotA: string[] = [];
      const gotB: string[] = [];
      // Same group id, different topics: on one Kafka group the assignor would hand each member
      // partitions of the other's topic, and some of each topic's partitions would go unread.
      await a.subscribe({ groupId, topics: ['orders'], handler: async (m) => void gotA.push(m.key) });
      await b.subscribe({ groupId, topics: ['shipments'], handler: async (m) => void gotB.push(m.key) });
      const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
      await a.publish(
        'orders',
        keys.map((key) => ({ key, value: 'o' })),
      );
      await b.publish(
        'shipments',
        keys.map((key) => ({ key, value: 's' })),
      );
      await Promise.all([waitForIdle(a, { timeoutMs: 30_000 }), waitForIdle(b, { timeoutMs: 30_000 })]);
      expect(gotA.sort()).toEqual([...keys].sort());
      expect(gotB.sort()).toEqual([...keys].sort());
      await admin.connect();
      const { groups } = await admin.describeGroups([`test.${suffix}.a.${groupId}`, `test.${suffix}.b.${groupId}`]);
      expect(groups.map((g) => g.members.length)).toEqual([1, 1]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a new consumer joins its group quickly', async () => {
    const prefix = `test.${randomBytes(4).toString('hex')}.`;
    const bus = createKafkaBus({ brokers, prefix, clientId: 'bus-join', logger });
    try {
      await bus.publish('orders', [{ key: 'k', value: 'warm-up' }]);
      const got: string[] = [];
      const started = Date.now();
      await bus.subscribe({ groupId: `join-${prefix}`, topics: ['orders'], handler: async (m) => void got.push(m.value.toString()) });
      await waitForIdle(bus, { timeoutMs: 30_000, pollMs: 20 });
      const firstJoinMs = Date.now() - started;
      const second = Date.now();
      await bus.subscribe({ groupId: `join-${prefix}`, topics: ['orders'], handler: async (m) => void got.push(m.value.toString()) });
      const rebalanceMs = Date.now() - second;
      expect(got).toEqual(['warm-up']);
      expect(firstJoinMs).toBeLessThan(5_000);
      expect(rebalanceMs).toBeLessThan(5_000);
    } finally {
      await bus.close();
    }
  });
});
