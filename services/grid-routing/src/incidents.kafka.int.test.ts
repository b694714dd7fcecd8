import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bus } from '@griddispatch/bus';
import { serializeEvent, Topics } from '@griddispatch/contracts';
import { createPool, type Pool } from '@griddispatch/db';
import { createTestKafkaBus, testGroupId } from '@griddispatch/testkit';
import { buildGridRouting, type GridRoutingHandle } from './app.ts';
import { loadConfig } from './config.ts';
import { FEEDER, importFeederDistricts } from './testing/incident-fixture.ts';
import { assigned, requestEvent, silentLogger, startHarness, type Harness } from './testing/harness.ts';

// Two grid-routing replicas (each its own pool) in one consumer group on a real Kafka broker:
// the calls of one 台区, keyed by request id, land on different partitions and replicas, and
// still make one incident with one primary; three 台区 of one feeder nest once.

let bus: Bus;
let h: Harness;
let second: GridRoutingHandle;
let secondPool: Pool;
beforeAll(async () => {
  bus = await createTestKafkaBus({ clientId: 'grid-routing-incidents-test' });
  const groupId = testGroupId('grid-routing');
  h = await startHarness({ bus, groupId });
  await importFeederDistricts(h.db.pool);
  secondPool = createPool(h.db.url, { max: 5, logger: silentLogger() });
  second = await buildGridRouting({ pool: secondPool, bus, logger: silentLogger(), config: loadConfig({}), groupId });
  await second.start();
}, 120_000);
afterAll(async () => {
  await second?.stop();
  await secondPool?.end();
  await h?.close();
  await bus?.close();
});

it('calls of one 台区 on several partitions and two replicas: one incident, one primary, each call dispatched once; one feeder incident', async () => {
  const at = (m: number, s: number) => new Date(Date.UTC(2026, 11, 28, 2, m, s)).toISOString();
  const calls = [
    ...Array.from({ length: 30 }, (_, i) => requestEvent({ receivedAt: at(i % 10, i), location: { districtCode: 'TQ-001' } })),
    ...Array.from({ length: 10 }, (_, i) => requestEvent({ receivedAt: at(i, 30), location: { districtCode: 'TQ-002' } })),
    ...Array.from({ length: 10 }, (_, i) => requestEvent({ receivedAt: at(i, 40), location: { districtCode: 'TQ-005' } })),
  ];
  const before = h.outputs.length;
  await bus.publish(
    Topics.requestsReceived,
    calls.map((e) => ({ key: e.data.id, value: serializeEvent(e) })),
  );
  await h.settle();
  await second.drained();
  await h.settle();

  const outs = h.outputs.slice(before).map(assigned);
  expect(outs.map((d) => d.workOrderId).sort()).toEqual(calls.map((c) => c.data.id).sort());
  for (const district of ['TQ-001', 'TQ-002', 'TQ-005']) {
    const mine = outs.filter((d) => d.districtCode === district);
    expect(new Set(mine.map((d) => d.incidentId)).size, district).toBe(1);
    expect(
      mine.filter((d) => d.role === 'primary'),
      district,
    ).toHaveLength(1);
    expect(
      mine.map((d) => d.incidentSize).sort((a, b) => a! - b!),
      district,
    ).toEqual(Array.from({ length: mine.length }, (_, i) => i + 1));
  }
  const { rows } = await h.db.pool.query("SELECT district_codes FROM routing.incidents WHERE kind = 'feeder' AND feeder_code = $1", [FEEDER]);
  expect(rows).toEqual([{ district_codes: ['TQ-001', 'TQ-002', 'TQ-005'] }]);
}, 120_000);
