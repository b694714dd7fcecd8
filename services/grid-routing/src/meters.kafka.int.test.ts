import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bus, Subscription } from '@griddispatch/bus';
import { buildEvent, serializeEvent, Topics, type MeterEventV1 } from '@griddispatch/contracts';
import { createTestKafkaBus, testGroupId } from '@griddispatch/testkit';
import { startHarness, type Harness } from './testing/harness.ts';

// Meter events through a real Kafka broker: a malformed record is dead-lettered alone, an unknown
// meter is a recorded no-op (never a dead letter), the transformer meter behind them opens its incident.

let bus: Bus;
let h: Harness;
let dlq: Subscription;
const dead: string[] = [];
beforeAll(async () => {
  bus = await createTestKafkaBus({ clientId: 'grid-routing-meters-test' });
  h = await startHarness({ bus });
  dlq = await bus.subscribe({
    groupId: testGroupId('meters-dlq'),
    topics: [`${Topics.metersEvents}.dlq`],
    handler: async (message) => {
      dead.push(message.value.toString('utf8'));
    },
  });
}, 120_000);
afterAll(async () => {
  await dlq?.stop();
  await h?.close();
  await bus?.close();
});

const meterEvent = (meterId: string, eventId: string) => {
  const data: MeterEventV1 = {
    source: 'amr',
    eventId,
    kind: 'power_off',
    meterId,
    at: new Date(Date.now() - 5_000).toISOString(),
    receivedAt: new Date().toISOString(),
  };
  return buildEvent({ type: 'cn.griddispatch.meter.event.v1', source: 'intake', subject: meterId, data });
};

it('opens the incident of a transformer meter through Kafka; an unknown meter is a no-op, a malformed record alone goes to the DLQ', async () => {
  await bus.publish(Topics.metersEvents, [
    { key: 'TQ-001', value: '{"not":"a cloud event"}' },
    { key: 'TQ-001', value: serializeEvent(meterEvent('M-0000000000', 'k-unknown')) },
    { key: 'TQ-001', value: serializeEvent(meterEvent('TM-TQ-001', 'k-tm')) },
  ]);
  const deadline = Date.now() + 60_000;
  let open: unknown[] = [];
  while (Date.now() < deadline) {
    open = (
      await h.db.pool.query("SELECT id FROM routing.incidents WHERE district_code = 'TQ-001' AND origin = 'meter' AND status NOT IN ('restored', 'closed')")
    ).rows;
    if (open.length === 1 && dead.length === 1) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(open).toHaveLength(1);
  expect(dead).toEqual(['{"not":"a cloud event"}']);
  const { rows } = await h.db.pool.query("SELECT reason FROM routing.meter_event_noops WHERE event_id = 'k-unknown'");
  expect(rows).toEqual([{ reason: 'unknown_meter' }]);
  expect(await h.service.ready()).toBe(true);
});
