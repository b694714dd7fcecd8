import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { backoffDelay, deadLetterNow, isDependencyUnavailable, partitionForKey, retryDelay, UNREACHABLE_MAX_BACKOFF_MS } from './delivery.ts';
import { loadTopicsFile, topicDefinition } from './topics.ts';
import { ALL_TOPICS, dlqTopic, EXTERNAL_SOURCE_TOPICS, EXTERNAL_TOPICS } from '@griddispatch/contracts';

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

describe('dependency unavailable (the database restarting) never dead-letters a record', () => {
  const policy = { maxAttempts: 3, retryBackoffMs: 100, maxRetryBackoffMs: 30_000 };
  const coded = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

  it('recognises connection errors of Node and node-postgres, and PostgreSQL shutting down', () => {
    expect(isDependencyUnavailable(coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'))).toBe(true);
    expect(isDependencyUnavailable(coded('ECONNRESET'))).toBe(true);
    expect(isDependencyUnavailable(coded('57P01', 'terminating connection due to administrator command'))).toBe(true);
    expect(isDependencyUnavailable(coded('57P03', 'the database system is starting up'))).toBe(true);
    expect(isDependencyUnavailable(coded('08006'))).toBe(true);
    expect(isDependencyUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDependencyUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isDependencyUnavailable(new Error('query failed', { cause: coded('ECONNREFUSED') }))).toBe(true);
    expect(isDependencyUnavailable(new AggregateError([coded('ECONNREFUSED')], 'connect failed'))).toBe(true);
  });

  it('leaves other errors to the attempt budget: constraint violations, bugs, missing context', () => {
    expect(isDependencyUnavailable(coded('23505', 'duplicate key value violates unique constraint'))).toBe(false);
    expect(isDependencyUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isDependencyUnavailable(Object.assign(new Error('work order not known yet'), { name: 'WorkOrderNotKnownYetError' }))).toBe(false);
    expect(isDependencyUnavailable('ECONNREFUSED')).toBe(false);
  });

  it('dead-letters after maxAttempts unless the dependency is away; a malformed record at once', () => {
    expect(deadLetterNow(policy, new Error('cannot apply'), 2)).toBe(false);
    expect(deadLetterNow(policy, new Error('cannot apply'), 3)).toBe(true);
    expect(deadLetterNow(policy, coded('ECONNREFUSED'), 3)).toBe(false);
    expect(deadLetterNow(policy, coded('57P01'), 500)).toBe(false);
    expect(deadLetterNow(policy, Object.assign(new Error('bad'), { name: 'InvalidEventError' }), 1)).toBe(true);
  });

  it('keeps retrying an unreachable dependency at most every few seconds, however long it is away', () => {
    expect(retryDelay(policy, coded('ECONNREFUSED'), 1000, () => 1)).toBe(UNREACHABLE_MAX_BACKOFF_MS);
    expect(retryDelay(policy, coded('ECONNREFUSED'), 1, () => 1)).toBe(100);
    expect(retryDelay(policy, new Error('cannot apply'), 10, () => 1)).toBe(30_000);
  });
});

describe('infra/kafka/topics.json', () => {
  const file = loadTopicsFile();
  it('defines every DESIGN topic and its DLQ, with more than one partition for the main topics', () => {
    for (const topic of ALL_TOPICS) {
      const main = file.topics.find((t) => t.name === topic);
      expect(main, topic).toBeDefined();
      expect(main?.partitions).toBeGreaterThan(1);
      expect(
        file.topics.find((t) => t.name === dlqTopic(topic)),
        dlqTopic(topic),
      ).toBeDefined();
    }
    expect(file.topics).toHaveLength(ALL_TOPICS.length * 2 + EXTERNAL_TOPICS.length);
  });
  it('defines the masked ext.* copy of each integrator-facing topic, partitioned as its source', () => {
    for (const [i, topic] of EXTERNAL_TOPICS.entries()) {
      expect(topicDefinition(file, topic).partitions, topic).toBe(topicDefinition(file, EXTERNAL_SOURCE_TOPICS[i]!).partitions);
    }
  });
  it('gives topics outside the file the defaults', () => {
    expect(topicDefinition(file, 'scratch')).toEqual({ name: 'scratch', partitions: file.defaults.partitions });
    expect(topicDefinition(file, 'scratch.dlq')).toEqual({ name: 'scratch.dlq', partitions: file.defaults.dlqPartitions });
  });
});
