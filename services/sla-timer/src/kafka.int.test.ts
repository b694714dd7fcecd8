import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '@griddispatch/bus';
import { Topics } from '@griddispatch/contracts';
import { parsePolicy } from '@griddispatch/sla';
import { createTestKafkaBus, freshDatabase, testGroupId, type FreshDatabase } from '@griddispatch/testkit';
import { buildSlaTimer, type SlaTimerHandle } from './app.ts';
import { assignedEvent, collectSlaEvents, publish, silentLogger, testConfig, workOrderEvent, type Emitted } from './testing/harness.ts';

// sla-timer through a real Kafka broker and PostgreSQL, on the wall clock, with windows of seconds.

const policy = parsePolicy({
  rules: [
    {
      name: 'seconds',
      match: {},
      windows: { ack: '3s', resolve: '30s' },
      warnBefore: '1s',
      escalation: [
        { after: '0s', notify: ['assistant'] },
        { after: '2s', notify: ['supervisor'] },
        { after: '4s', notify: ['station_head'] },
      ],
    },
  ],
});

let db: FreshDatabase;
let bus: Bus;
let service: SlaTimerHandle;

beforeAll(async () => {
  db = await freshDatabase('sla_kafka');
  bus = await createTestKafkaBus({ clientId: 'sla-timer-test' });
  service = await buildSlaTimer({
    pool: db.pool,
    bus,
    logger: silentLogger,
    policy,
    groupId: testGroupId('sla-timer'),
    config: testConfig({ pollIntervalMs: 500 }),
  });
  await service.start();
});
afterAll(async () => {
  await service?.stop();
  await bus?.close();
  await db?.drop();
});

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting for sla events');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('sla-timer over Kafka', () => {
  it('warns, breaches and escalates on time, and stops once the stage is satisfied', async () => {
    const collector = await collectSlaEvents(bus);
    const openedAt = new Date();
    const late = assignedEvent(policy, { openedAt });
    const prompt = assignedEvent(policy, { openedAt });
    const wo = late.data.workOrderId;
    await publish(bus, Topics.dispatchAssigned, late.data.grid.id, late);
    await publish(bus, Topics.dispatchAssigned, prompt.data.grid.id, prompt);
    // The other crew acknowledges within a second: nothing is ever said about it.
    await new Promise((r) => setTimeout(r, 800));
    await publish(bus, Topics.workordersEvents, prompt.data.workOrderId, workOrderEvent(prompt.data.workOrderId, 'acknowledged', new Date()));

    const ofWo = () => collector.events.filter((e) => e.data.workOrderId === wo && e.data.stage === 'ack');
    await until(() => ofWo().some((e) => e.topic === 'sla.breaches' && e.data.level === 2), 20_000);
    await publish(bus, Topics.workordersEvents, wo, workOrderEvent(wo, 'acknowledged', new Date()));
    // Level 3 would be due 7 s after opening; wait past it.
    await new Promise((r) => setTimeout(r, Math.max(0, openedAt.getTime() + 9_000 - Date.now())));

    const seen = ofWo();
    const label = (e: Emitted) => (e.topic === 'sla.warnings' ? 'warning' : `L${e.data.level}`);
    expect(seen.map(label)).toEqual(['warning', 'L1', 'L2']);
    const due = { warning: 2_000, L1: 3_000, L2: 5_000 } as Record<string, number>;
    for (const e of seen) {
      const firedAfterOpening = new Date(e.event.time).getTime() - openedAt.getTime();
      expect(firedAfterOpening).toBeGreaterThanOrEqual(due[label(e)]!);
      expect(firedAfterOpening - due[label(e)]!).toBeLessThan(1_000);
      expect(e.data.late).toBe(false);
    }
    expect(seen[1]!.data).toMatchObject({ deadline: new Date(openedAt.getTime() + 3_000).toISOString(), notify: ['assistant'] });
    expect(seen[2]!.data).toMatchObject({ notify: ['supervisor'] });
    expect(collector.events.filter((e) => e.data.workOrderId === prompt.data.workOrderId)).toEqual([]);
    await collector.subscription.stop();
  });
});
