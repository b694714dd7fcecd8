import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bus } from '@griddispatch/bus';
import { createTestKafkaBus } from '@griddispatch/testkit';
import { assigned, requestEvent, startHarness, type Harness } from './testing/harness.ts';

// The same service through a real Kafka broker (KAFKA_BROKERS from the vitest global setup) and a
// real PostgreSQL, on a topic prefix of its own.

let bus: Bus;
let h: Harness;
beforeAll(async () => {
  bus = await createTestKafkaBus({ clientId: 'grid-routing-test' });
  h = await startHarness({ bus });
}, 120_000);
afterAll(async () => {
  await h?.close();
  await bus?.close();
});

it('routes requests from requests.received to dispatch.assigned / dispatch.unroutable through Kafka, once each', async () => {
  const aquaculture = requestEvent({ receivedAt: '2026-11-24T02:00:00.000Z', customer: { accountNo: '3000000002' } });
  const lost = requestEvent({ receivedAt: '2026-11-24T02:01:00.000Z', category: 'consultation', location: { lon: 100, lat: 20 } });
  const outs = await h.send(aquaculture, lost, aquaculture);
  expect(outs).toHaveLength(2);
  const [first, second] = outs;
  expect(first?.key).toBe('HH-G2');
  expect(assigned(first)).toMatchObject({ workOrderId: aquaculture.data.id, resolvedBy: 'account', sla: { policy: 'aquaculture-circle' } });
  expect(second).toMatchObject({ type: 'unroutable', key: lost.data.id, data: { workOrderId: lost.data.id, fallbackDesk: 'station-desk' } });
  expect(bus.topicName('dispatch.assigned')).toMatch(/^test\.[0-9a-f]+\.dispatch\.assigned$/);
  expect(await h.service.ready()).toBe(true);
});
