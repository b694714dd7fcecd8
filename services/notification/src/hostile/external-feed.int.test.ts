import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingMessage, Subscription } from '@griddispatch/bus';
import { EventTypeName, EventTypes, EXTERNAL_TOPICS, parseEvent, type CloudEvent, type EventType } from '@griddispatch/contracts';
import {
  assignedData,
  assignedEvent,
  breachedData,
  breachedEvent,
  incidentData,
  incidentEvent,
  unroutableData,
  unroutableEvent,
  updatedData,
  updatedEvent,
  warningData,
  warningEvent,
} from '../testing/fixtures.ts';
import { startHarness, type Harness } from '../testing/harness.ts';

// Issue 17.2: Kafka consumers outside the company read `ext.<topic>` only — every integrator-facing
// event once, masked as for a webhook without pii:read. Here on the in-process bus (the embedded
// start); tests/distributed/stack.int.test.ts checks the same on the real broker after a full flow.

let h: Harness;
let tap: Subscription;
const got: IncomingMessage[] = [];

const CUSTOMER = { name: '刘德华', phone: '13912345678', accountNo: '3300098765' };
const ADDRESS = '后湖管理区三组12号';
const STAFF = ['张伟', '李娜', '王强', '赵六', '13800000001', '13800000002', '138-0000-0003', '13700000009', 'zhangwei'];

beforeAll(async () => {
  h = await startHarness();
  tap = await h.bus.subscribe({ groupId: 'outside-consumer', topics: [...EXTERNAL_TOPICS], handler: async (m) => void got.push(m) });
});
afterAll(async () => {
  await tap?.stop();
  await h?.close();
});

function events(): CloudEvent[] {
  const assigned = assignedData();
  assigned.request.customer = { ...CUSTOMER, classes: ['aquaculture'] };
  assigned.request.location = { districtCode: 'HH-TQ-017', address: ADDRESS };
  assigned.request.description = `停电，回电${CUSTOMER.phone}`;
  const wo = assigned.workOrderId;
  const unroutable = unroutableData();
  unroutable.request.customer = { ...CUSTOMER };
  unroutable.request.location = { address: ADDRESS };
  return [
    assignedEvent(assigned),
    unroutableEvent(unroutable),
    updatedEvent(
      updatedData(wo, {
        type: 'reassigned',
        by: '张伟',
        assignee: { staffId: 'S-x', name: '赵六' },
        note: '交给赵六，电话13700000009',
        previousStatus: 'assigned',
        status: 'assigned',
      }),
    ),
    warningEvent(warningData(wo)),
    breachedEvent(breachedData(wo)),
    incidentEvent(EventTypeName.incidentOpened, incidentData()),
  ];
}

describe('the ext.* feed', () => {
  it('carries each event once, on ext.<its topic> with its key, without personal data but with the ids to follow it', async () => {
    const sent = events();
    await h.deliver(...sent);
    // A redelivery (a consumer restarted before committing) publishes nothing twice.
    await h.deliver(...sent);
    await h.service.drained();
    await new Promise((r) => setTimeout(r, 100));
    const byId = new Map(got.map((m) => [parseEvent(m.value).id, m]));
    expect(got).toHaveLength(sent.length);
    for (const e of sent) {
      const m = byId.get(e.id);
      expect(m, e.type).toBeDefined();
      expect(m!.topic).toBe(`ext.${EventTypes[e.type].topic}`);
      const body = m!.value.toString('utf8');
      for (const secret of [CUSTOMER.name, CUSTOMER.phone, CUSTOMER.accountNo, ADDRESS, ...STAFF])
        expect(body, `${secret} on ${m!.topic}`).not.toContain(secret);
      const event = parseEvent(m!.value);
      expect(() => EventTypes[event.type as EventType].data.parse(event.data)).not.toThrow();
      expect(event.subject).toBe(e.subject);
    }
    const assigned = parseEvent(byId.get(sent[0]!.id)!.value) as CloudEvent<typeof EventTypeName.dispatchAssigned>;
    expect(assigned.data).toMatchObject({
      workOrderId: sent[0]!.subject,
      grid: { id: 'HH-G03', name: '后湖3号网格' },
      request: { externalId: expect.any(String) },
    });
    expect(assigned.data.request.customer).toMatchObject({ name: '刘*', phone: '139****5678', accountNo: expect.stringMatching(/^acct_[0-9a-f]{16}$/) });
    // The key it came with (the harness publishes by subject; grid-routing by grid id).
    for (const e of sent) expect(byId.get(e.id)!.key).toBe(e.subject);
  });

  it('is off with NOTIFY_EXTERNAL_FEED=0', async () => {
    const quiet = await startHarness({ env: { NOTIFY_EXTERNAL_FEED: '0' } });
    try {
      const seen: IncomingMessage[] = [];
      await quiet.bus.subscribe({ groupId: 'outside', topics: [...EXTERNAL_TOPICS], handler: async (m) => void seen.push(m) });
      await quiet.deliver(...events());
      expect(await quiet.db.pool.query('SELECT 1 FROM notification.outbox')).toMatchObject({ rowCount: 0 });
      expect(seen).toEqual([]);
    } finally {
      await quiet.close();
    }
  });
});
