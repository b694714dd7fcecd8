import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventTypeName, parseEvent } from '@griddispatch/contracts';
import { assignedData, assignedEvent, incidentData, incidentEvent } from '../testing/fixtures.ts';
import { deliveryRows, startHarness, subscribe, type Harness } from '../testing/harness.ts';
import type { ReceivedRequest } from '../testing/receiver.ts';

// incidents.events (docs/architecture.md#incidents) through the real consumer, PostgreSQL and
// HTTP receivers: integrators' webhooks get every incident event of their grids; staff hear of a
// feeder incident once, when it opens, and not again when its own work order is dispatched.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());
beforeEach(async () => {
  await h.db.pool.query('TRUNCATE notification.subscriptions, notification.deliveries, notification.grid_contacts CASCADE');
  for (const r of [h.webhook, h.robot, h.smsGateway, h.deskRobot]) r.received.length = 0;
});

const smsTo = (reqs: ReceivedRequest[]) => reqs.map((r) => (JSON.parse(r.body) as { to: string; text: string }).to).sort();
const cards = (reqs: ReceivedRequest[]) => reqs.map((r) => (JSON.parse(r.body) as { markdown: { content: string } }).markdown.content);

/** A primary dispatch on HH-G03 (area HH): it teaches notification the grid's people, station head included. */
function primaryOf(incidentId: string) {
  const data = assignedData({ incidentId, incidentSize: 1, role: 'primary' });
  data.contacts.push({ staffId: 'S-head', name: '周所长', role: 'station_head', phone: '13800000005', wecomUserId: 'zhouhead' });
  return assignedEvent(data);
}

describe('webhooks for incident events', () => {
  it('deliver every incident event type to its subscribers, signed, filtered on the grid and its area grid', async () => {
    const all = await subscribe(h, { url: `${h.webhook.url}?all`, events: ['incident.opened', 'incident.updated', 'incident.restored', 'incident.closed'] });
    await subscribe(h, { url: `${h.webhook.url}?area`, events: ['incident.restored'], gridIds: ['HH'] });
    await subscribe(h, { url: `${h.webhook.url}?other`, events: ['incident.opened', 'incident.restored'], gridIds: ['TC-G01'] });
    await subscribe(h, { url: `${h.webhook.url}?dispatch`, events: ['dispatch.assigned'], gridIds: ['TC-G01'] });
    const incident = incidentData();
    await h.deliver(primaryOf(incident.id)); // HH-G03 belongs to area HH
    h.smsGateway.received.length = 0;
    h.robot.received.length = 0;

    const events = [
      incidentEvent(EventTypeName.incidentOpened, incident),
      incidentEvent(EventTypeName.incidentUpdated, { ...incident, status: 'dispatched', callCount: 40, change: 'calls' }),
      incidentEvent(EventTypeName.incidentRestored, { ...incident, status: 'restored', restoredAt: '2026-11-23T07:40:00.000Z', change: 'status' }),
      incidentEvent(EventTypeName.incidentClosed, { ...incident, status: 'closed', change: 'status' }),
    ];
    await h.deliver(...events);
    expect(h.webhook.received.map((r) => r.path).sort()).toEqual(['/hook?all', '/hook?all', '/hook?all', '/hook?all', '/hook?area']);
    const received = h.webhook.received.filter((r) => r.path === '/hook?all');
    expect(received.map((r) => r.headers['webhook-id'])).toEqual(events.map((e) => e.id));
    expect(parseEvent(JSON.stringify(new Webhook(all.secret).verify(received[2]!.body, received[2]!.headers)))).toEqual(events[2]);
    // A district incident's own events tell no staff: its primary's dispatch did.
    expect([h.smsGateway.received.length, h.robot.received.length, h.deskRobot.received.length]).toEqual([0, 0, 0]);
  });
});

describe('feeder incidents', () => {
  const feeder = (overrides: Parameters<typeof incidentData>[0] = {}) =>
    incidentData({
      kind: 'feeder',
      gridId: 'HH',
      feederCode: 'HH-10kV-02',
      districtCodes: ['HH-TQ-011', 'HH-TQ-014', 'HH-TQ-017'],
      childIds: [randomUUID(), randomUUID(), randomUUID()],
      callCount: 0,
      affectedCustomers: 412,
      change: 'opened',
      ...overrides,
    });

  it("tell the feeder grid's repair crew and station head once when it opens — not again when its own work order is dispatched", async () => {
    await subscribe(h, { url: h.webhook.url, events: ['incident.opened', 'dispatch.assigned'] });
    await h.deliver(primaryOf(randomUUID())); // a child incident's primary: HH's people are known
    h.smsGateway.received.length = 0;
    h.robot.received.length = 0;
    h.webhook.received.length = 0;

    const parent = feeder();
    const opened = incidentEvent(EventTypeName.incidentOpened, parent);
    await h.deliver(opened);
    expect(smsTo(h.smsGateway.received)).toEqual(['+8613800000004', '+8613800000005']);
    const [card] = cards(h.robot.received);
    expect(h.robot.received[0]?.path).toBe('/hook?key=robot-hh');
    expect(card).toContain('**【线路故障】<font color="warning">10kV线路HH-10kV-02</font>**');
    expect(card).toContain('> 停电台区：3个（HH-TQ-011、HH-TQ-014、HH-TQ-017）');
    expect(card).toContain('> 抢修：抢修一班（应急抢修班）、<@zhouhead> 周所长（供电所长）');
    expect(h.webhook.received).toHaveLength(1);

    // Redelivered, or its nesting updates: nothing new for staff.
    await h.deliver(opened, incidentEvent(EventTypeName.incidentUpdated, { ...parent, change: 'nested' }));
    // The parent's own work order (intake opens it, grid-routing routes it as the primary).
    const workOrder = assignedEvent(assignedData({ incidentId: parent.id, incidentSize: 1, role: 'primary' }));
    await h.deliver(workOrder);
    expect(h.smsGateway.received).toHaveLength(2);
    expect(h.robot.received).toHaveLength(1);
    expect(h.webhook.received).toHaveLength(2); // incident.opened and the parent's dispatch.assigned
    expect((await deliveryRows(h, 'event_id = $1', [workOrder.id])).map((r) => r.channel)).toEqual(['webhook']);
    expect((await deliveryRows(h, 'event_id = $1', [opened.id])).map((r) => r.channel)).toEqual(['sms', 'sms', 'webhook', 'wecom']);
  });

  it("when the parent's work order is dispatched before the opening arrives, the dispatch is the one notice", async () => {
    await h.deliver(primaryOf(randomUUID()));
    h.smsGateway.received.length = 0;
    h.robot.received.length = 0;
    const parent = feeder();
    await h.deliver(assignedEvent(assignedData({ incidentId: parent.id, incidentSize: 1, role: 'primary' })));
    await h.deliver(incidentEvent(EventTypeName.incidentOpened, parent));
    expect(smsTo(h.smsGateway.received)).toEqual(['+8613800000001']);
    expect(cards(h.robot.received)).toEqual([expect.stringMatching(/^\*\*【抢修派单】/)]);
  });

  it("waits for the grid's people, then tells the operator desk when none are ever known", async () => {
    const parent = feeder({ gridId: 'TC' });
    await h.deliver(incidentEvent(EventTypeName.incidentOpened, parent));
    expect(h.smsGateway.received).toHaveLength(0);
    expect(cards(h.deskRobot.received)).toEqual([expect.stringContaining('10kV线路HH-10kV-02')]);
  });
});
