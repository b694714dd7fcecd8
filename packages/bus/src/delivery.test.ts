import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { backoffDelay, partitionForKey } from './delivery.ts';
import { loadTopicsFile, topicDefinition } from './topics.ts';
import { ALL_TOPICS, dlqTopic } from '@griddispatch/contracts';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;

describe('partitionForKey', () => {
  it('puts a key on the partition Kafka’s default partitioner (kafkajs) picks', () => {
    for (const key of ['', 'a', 'ab', 'abc', 'abcd', 'wo-8f14e45f-ceea-467f-a0a4-1c5e9b1e2f5d', '后湖3号网格', 'grid-0042']) {
      for (const partitions of [1, 3, 6, 7]) {
        expect(partitionForKey(key, partitions), `${key} / ${partitions}`).toBe((kafkajsMurmur2(Buffer.from(key)) & 0x7fffffff) % partitions);
      }
    }
  });
});

describe('backoffDelay', () => {
  const policy = { maxAttempts: 5, retryBackoffMs: 100, maxRetryBackoffMs: 1000 };
  it('doubles per attempt within [half, full] of the exponential, capped', () => {
    expect(backoffDelay(policy, 1, () => 0)).toBe(50);
    expect(backoffDelay(policy, 1, () => 1)).toBe(100);
    expect(backoffDelay(policy, 3, () => 1)).toBe(400);
    expect(backoffDelay(policy, 10, () => 1)).toBe(1000);
    expect(backoffDelay(policy, 10, () => 0)).toBe(500);
  });
});

describe('infra/kafka/topics.json', () => {
  const file = loadTopicsFile();
  it('defines every DESIGN topic and its DLQ, with more than one partition for the main topics', () => {
    for (const topic of ALL_TOPICS) {
      const main = file.topics.find((t) => t.name === topic);
      expect(main, topic).toBeDefined();
      expect(main?.partitions).toBeGreaterThan(1);
      expect(file.topics.find((t) => t.name === dlqTopic(topic)), dlqTopic(topic)).toBeDefined();
    }
    expect(file.topics).toHaveLength(ALL_TOPICS.length * 2);
  });
  it('gives topics outside the file the defaults', () => {
    expect(topicDefinition(file, 'scratch')).toEqual({ name: 'scratch', partitions: file.defaults.partitions });
    expect(topicDefinition(file, 'scratch.dlq')).toEqual({ name: 'scratch.dlq', partitions: file.defaults.dlqPartitions });
  });
});
