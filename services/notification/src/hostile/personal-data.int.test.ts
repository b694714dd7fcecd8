import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventTypeName, EventTypes, type CloudEvent, type EventType } from '@griddispatch/contracts';
import { buildHttpHost } from '@griddispatch/http';
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
import { startReceiver, type Receiver } from '../testing/receiver.ts';

// Issue 17.2: an integrator whose key lacks pii:read never sees a customer's or a staff member's
// phone number or name, whatever event type it subscribes to; a key with pii:read gets the event
// as it was. Every event type goes through the real consumers, worker and signed webhook.

let h: Harness;
let app: FastifyInstance;
let open: Receiver;
const KEYS = { plain: 'plain-integrator-secret', trusted: 'trusted-integrator-secret' };
const ALL = [
  'dispatch.assigned',
  'dispatch.unroutable',
  'workorder.updated',
  'sla.warning',
  'sla.breached',
  'incident.opened',
  'incident.updated',
  'incident.restored',
  'incident.closed',
];
const secrets: Record<string, string> = {};

const CUSTOMER = { name: '刘德华', phone: '13912345678', accountNo: '3300098765' };
const ADDRESS = '后湖管理区三组12号';
const STAFF_NAMES = ['张伟', '李娜', '王强', '赵六'];
const STAFF_PHONES = ['13800000001', '13800000002', '138-0000-0003', '138 0000 0004', '13700000009'];

beforeAll(async () => {
  h = await startHarness();
  open = await startReceiver();
  app = await buildHttpHost({
    pool: h.db.pool,
    logger: h.logger,
    apiKeys: `plain:${KEYS.plain}:subscriptions:write,trusted:${KEYS.trusted}:subscriptions:write+pii:read`,
    services: [h.service],
    rateLimit: false,
  });
  for (const [who, url] of [
    ['plain', open.url],
    ['trusted', h.webhook.url],
  ] as const) {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: { authorization: `Bearer ${KEYS[who]}` },
      payload: { url, events: ALL },
    });
    expect(res.statusCode).toBe(201);
    secrets[who] = res.json<{ secret: string }>().secret;
  }
});
afterAll(async () => {
  await app?.close();
  await open?.close();
  await h?.close();
});

function events(): CloudEvent[] {
  const assigned = assignedData();
  assigned.request.customer = { ...CUSTOMER, classes: ['aquaculture'] };
  assigned.request.location = { districtCode: 'HH-TQ-017', address: ADDRESS, lon: 114.123456, lat: 30.654321 };
  assigned.request.description = `增氧机停了，回电${CUSTOMER.phone}`;
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
    updatedEvent(updatedData(wo, { type: 'arrived', note: '已到现场' })),
    warningEvent(warningData(wo)),
    breachedEvent(breachedData(wo)),
    // Incidents name no person; they go through the same redaction, and must arrive valid and signed.
    ...[EventTypeName.incidentOpened, EventTypeName.incidentUpdated, EventTypeName.incidentRestored, EventTypeName.incidentClosed].map((type) =>
      incidentEvent(type, incidentData()),
    ),
  ];
}

const HEX_IDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]|acct_[0-9a-f]{16}/gi;

describe('personal data by scope', () => {
  it('a subscriber without pii:read gets every event type, signed, with no phone number or name in it', async () => {
    const sent = events();
    await h.deliver(...sent);
    const got = await open.waitFor(sent.length);
    await h.webhook.waitFor(sent.length);
    expect(new Set(got.map((r) => (JSON.parse(r.body) as { type: EventType }).type))).toEqual(new Set(sent.map((e) => e.type)));
    for (const r of got) {
      // The signature is over what was sent: the redacted body.
      expect(() => new Webhook(secrets.plain!).verify(r.body, r.headers)).not.toThrow();
      for (const secret of [CUSTOMER.name, CUSTOMER.phone, CUSTOMER.accountNo, ADDRESS, ...STAFF_NAMES, ...STAFF_PHONES, 'zhangwei', '114.123456']) {
        expect(r.body, `${secret} in a ${(JSON.parse(r.body) as { type: string }).type}`).not.toContain(secret);
      }
      // No mainland mobile number in any form. Ids (UUIDs, traceparents, account hashes) are hex:
      // a run of their digits can read as a number once dashes go, so they are set aside first.
      expect(r.body.replace(HEX_IDS, '<id>').replace(/[\s-]/g, '')).not.toMatch(/1[3-9]\d{9}/);
      // Still a valid event of its type.
      const event = JSON.parse(r.body) as { type: EventType; data: unknown };
      expect(() => EventTypes[event.type].data.parse(event.data)).not.toThrow();
    }
    const assigned = JSON.parse(got.find((r) => r.body.includes('dispatch.assigned'))!.body) as { data: { request: { customer: Record<string, string> } } };
    expect(assigned.data.request.customer).toMatchObject({ name: '刘*', phone: '139****5678', accountNo: expect.stringMatching(/^acct_[0-9a-f]{16}$/) });
  });

  it('a subscriber whose key has pii:read gets the events as they were', async () => {
    const bodies = h.webhook.received.map((r) => r.body).join('\n');
    for (const secret of [CUSTOMER.name, CUSTOMER.phone, CUSTOMER.accountNo, ADDRESS, '赵六']) expect(bodies).toContain(secret);
    const listed = await app.inject({ method: 'GET', url: '/v1/subscriptions', headers: { authorization: `Bearer ${KEYS.trusted}` } });
    expect(listed.json<{ items: { personalData: boolean }[] }>().items.map((s) => s.personalData)).toEqual([true]);
  });
});
