import { describe, expect, it } from 'vitest';
import { createTestKafkaBus, testGroupId, waitForIdle } from './kafka.ts';

describe('testkit Kafka bus', () => {
  it('hands tests a working bus on the test broker, and waitForIdle sees its consumers catch up', async () => {
    const bus = await createTestKafkaBus();
    try {
      const got: string[] = [];
      await bus.subscribe({ groupId: testGroupId('testkit'), topics: ['requests.received'], handler: async (m) => void got.push(m.value.toString()) });
      await bus.publish('requests.received', [
        { key: 'r1', value: 'one' },
        { key: 'r2', value: 'two' },
      ]);
      await waitForIdle(bus, { timeoutMs: 30_000 });
      expect(got.sort()).toEqual(['one', 'two']);
      expect(bus.topicName('requests.received')).toMatch(/^test\.[0-9a-f]+\.requests\.received$/);
    } finally {
      await bus.close();
    }
  });
});
