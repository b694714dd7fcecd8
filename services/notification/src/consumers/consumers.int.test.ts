import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitForIdle } from '@griddispatch/bus';
import { parseEvent } from '@griddispatch/contracts';
import {
  assignedData,
  assignedEvent,
  breachedData,
  breachedEvent,
  unroutableEvent,
  updatedData,
  updatedEvent,
  warningData,
  warningEvent,
} from '../testing/fixtures.ts';
import { deliveryRows, startHarness, subscribe, type Harness } from '../testing/harness.ts';
import type { ReceivedRequest } from '../testing/receiver.ts';

// Who hears about what: each consumed event through the real consumer, PostgreSQL and real HTTP
// receivers for the webhook, the WeCom robot and the SMS gateway.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());
beforeEach(async () => {
  await h.db.pool.query('TRUNCATE notification.subscriptions, notification.deliveries CASCADE');
  for (const r of [h.webhook, h.robot, h.smsGateway, h.deskRobot]) r.received.length = 0;
});

const smsTo = (reqs: ReceivedRequest[]) => reqs.map((r) => JSON.parse(r.body) as { to: string; templateId: string | null; text: string });

describe('dispatch.assigned', () => {
  it('texts the assignee, posts a markdown card to the grid robot and a signed CloudEvent to subscribers', async () => {
    const sub = await subscribe(h, { url: h.webhook.url, events: ['dispatch.assigned'] });
    const event = assignedEvent();
    expect(await h.deliver(event)).toBe(3);

    expect(smsTo(h.smsGateway.received)).toEqual([
      {
        to: '+8613800000001',
        kind: 'dispatch.assigned',
        templateId: 'SMS_DISPATCH',
        params: expect.objectContaining({ code: expect.stringMatching(/^[2-9A-HJKMNP-Z]{4}$/) }),
        // The code to acknowledge by reply (`1 <code>`) ends the text.
        text: expect.stringMatching(/^【抢修派单】后湖3号网格 台区HH-TQ-017 养殖户停电，请30分钟内到达（截止14:32）；回复“1 [2-9A-HJKMNP-Z]{4}”确认接单$/),
      },
    ]);

    const [card] = h.robot.received;
    expect(card?.path).toBe('/hook?key=robot-hh');
    const body = JSON.parse(card!.body) as { msgtype: string; markdown: { content: string } };
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.content).toMatch(/^\*\*【抢修派单】后湖3号网格\*\*\n> 台区：HH-TQ-017/);
    expect(body.markdown.content).toContain('<@zhangwei> 张伟（台区经理）');

    const [hook] = h.webhook.received;
    expect(hook?.headers['webhook-id']).toBe(event.id);
    const verified = new Webhook(sub.secret).verify(hook!.body, hook!.headers);
    expect(parseEvent(JSON.stringify(verified))).toEqual(event);
    expect((await deliveryRows(h)).map((r) => r.status)).toEqual(['delivered', 'delivered', 'delivered']);
  });

  it('honours the grid filter of a subscription (a grid or its area grid)', async () => {
    await subscribe(h, { url: `${h.webhook.url}?f=HH-G03`, events: ['dispatch.assigned'], gridIds: ['HH-G03'] });
    await subscribe(h, { url: `${h.webhook.url}?f=HH`, events: ['dispatch.assigned'], gridIds: ['HH'] });
    await subscribe(h, { url: `${h.webhook.url}?f=TC`, events: ['dispatch.assigned'], gridIds: ['TC-G01'] });
    await subscribe(h, { url: `${h.webhook.url}?f=breaches`, events: ['sla.breached'] });
    await h.deliver(assignedEvent());
    expect(h.webhook.received.map((r) => r.path).sort()).toEqual(['/hook?f=HH', '/hook?f=HH-G03']);
  });

  it('records an unusable phone number as a permanent failure, visible in the log', async () => {
    const data = assignedData();
    data.contacts[0]!.phone = '027-87654321';
    await h.deliver(assignedEvent(data));
    expect(h.smsGateway.received).toHaveLength(0);
    const [sms] = await deliveryRows(h, "channel = 'sms'");
    expect(sms).toMatchObject({ status: 'failed', attempts: 1, last_error: 'invalid phone number (not a mainland mobile)' });
  });
});

describe('dispatch.unroutable', () => {
  it('goes to the operator desk robot and to unfiltered subscribers only', async () => {
    await subscribe(h, { url: `${h.webhook.url}?all`, events: ['dispatch.unroutable'] });
    await subscribe(h, { url: `${h.webhook.url}?grid`, events: ['dispatch.unroutable'], gridIds: ['HH-G03'] });
    await h.deliver(unroutableEvent());
    expect(h.deskRobot.received).toHaveLength(1);
    expect(JSON.parse(h.deskRobot.received[0]!.body).markdown.content).toContain('【无法派单】');
    expect(h.webhook.received.map((r) => r.path)).toEqual(['/hook?all']);
    expect(h.smsGateway.received).toHaveLength(0);
  });
});

describe('escalation', () => {
  it('level 1 texts the roles the step names; level 2 texts the supervisor', async () => {
    const data = assignedData();
    await h.deliver(assignedEvent(data));
    h.smsGateway.received.length = 0;
    h.robot.received.length = 0;

    await h.deliver(breachedEvent(breachedData(data.workOrderId, { level: 1, notify: ['assistant', 'repair_crew'] })));
    expect(
      smsTo(h.smsGateway.received)
        .map((s) => s.to)
        .sort(),
    ).toEqual(['+8613800000002', '+8613800000004']);

    h.smsGateway.received.length = 0;
    await h.deliver(breachedEvent(breachedData(data.workOrderId, { level: 2, notify: ['supervisor'], latenessMs: 900_000 })));
    const [sms] = smsTo(h.smsGateway.received);
    expect(h.smsGateway.received).toHaveLength(1);
    expect(sms).toMatchObject({ to: '+8613800000003', templateId: 'SMS_BREACH' });
    expect(sms?.text).toBe(
      `【超时告警·2级】后湖3号网格 台区HH-TQ-017 工单${data.workOrderId.replace(/-/g, '').slice(0, 8).toUpperCase()} 到达已超时15分钟（截止14:32），请监督员督办`,
    );
    const cards = h.robot.received.map((r) => (JSON.parse(r.body) as { markdown: { content: string } }).markdown.content);
    expect(cards[1]).toContain('<@wangqiang> 王强（监督员）');
  });

  it('warns the current assignee, and after a reassignment the new one', async () => {
    const data = assignedData();
    await h.deliver(assignedEvent(data));
    await h.deliver(updatedEvent(updatedData(data.workOrderId, { type: 'reassigned', status: 'assigned', assignee: { staffId: 'S-ast', name: '李娜' } })));
    h.smsGateway.received.length = 0;
    await h.deliver(warningEvent(warningData(data.workOrderId)));
    expect(smsTo(h.smsGateway.received)).toEqual([expect.objectContaining({ to: '+8613800000002', text: expect.stringMatching(/^【时限预警】后湖3号网格/) })]);
  });

  it('waits for a breach whose dispatch is still on its way, then escalates to the named roles', async () => {
    const data = assignedData();
    const breach = breachedEvent(breachedData(data.workOrderId, { level: 2, notify: ['supervisor'] }));
    await h.publish(breach); // sla.breaches overtakes dispatch.assigned (another topic)
    await h.publish(assignedEvent(data));
    await waitForIdle(h.bus);
    await h.service.tick();
    const breachSms = await deliveryRows(h, 'event_id = $1', [breach.id]);
    expect(breachSms.map((r) => [r.channel, r.recipient])).toEqual([
      ['sms', '+8613800000003'],
      ['wecom', `${h.robot.url}?key=robot-hh`],
    ]);
    expect(h.deskRobot.received).toHaveLength(0);
  });

  it('tells the operator desk about a breach of a work order it never saw dispatched', async () => {
    const breach = breachedEvent(breachedData('never-dispatched', { level: 1 }));
    await h.deliver(breach);
    expect(await deliveryRows(h, 'event_id = $1', [breach.id])).toEqual([
      expect.objectContaining({ channel: 'wecom', recipient: `${h.deskRobot.url}?key=desk`, status: 'delivered' }),
    ]);
    expect(JSON.parse(h.deskRobot.received[0]!.body).markdown.content).toContain('网格HH-G03');
  });

  it('sends ordinary work-order updates to subscribers only', async () => {
    const data = assignedData();
    await subscribe(h, { url: h.webhook.url, events: ['workorder.updated'], gridIds: ['HH-G03'] });
    await h.deliver(assignedEvent(data));
    const before = { sms: h.smsGateway.received.length, robot: h.robot.received.length };
    await h.deliver(updatedEvent(updatedData(data.workOrderId, { type: 'arrived' })));
    expect({ sms: h.smsGateway.received.length, robot: h.robot.received.length }).toEqual(before);
    expect(h.webhook.received).toHaveLength(1);
  });
});

describe('exactly once per recipient and channel', () => {
  it('does not deliver twice when the bus redelivers an event', async () => {
    await subscribe(h, { url: h.webhook.url, events: ['dispatch.assigned'] });
    const event = assignedEvent();
    await h.deliver(event);
    await h.deliver(event, event);
    expect(await h.service.tick()).toBe(0);
    expect([h.webhook.received.length, h.robot.received.length, h.smsGateway.received.length]).toEqual([1, 1, 1]);
  });

  it('does not deliver twice after a restart, even if the inbox row were lost', async () => {
    await subscribe(h, { url: h.webhook.url, events: ['dispatch.assigned'] });
    const event = assignedEvent();
    await h.deliver(event);
    await h.restart();
    await h.deliver(event);
    await h.db.pool.query('DELETE FROM notification.inbox WHERE event_id = $1', [event.id]);
    await h.deliver(event);
    expect([h.webhook.received.length, h.robot.received.length, h.smsGateway.received.length]).toEqual([1, 1, 1]);
    expect(await deliveryRows(h, 'event_id = $1', [event.id])).toHaveLength(3);
  });

  it('sends one SMS to a person listed under two roles', async () => {
    const data = assignedData();
    data.contacts.push({ staffId: 'S-sup2', name: '王强', role: 'station_head', phone: '13800000003' });
    await h.deliver(assignedEvent(data));
    h.smsGateway.received.length = 0;
    await h.deliver(breachedEvent(breachedData(data.workOrderId, { level: 3, notify: ['supervisor', 'station_head'] })));
    expect(smsTo(h.smsGateway.received).map((s) => s.to)).toEqual(['+8613800000003']);
  });
});

describe('trouble-call incidents', () => {
  const incidentCall = (incidentId: string, incidentSize: number) => assignedData({ incidentId, incidentSize });
  const call = (incidentId: string, incidentSize: number) => assignedData({ incidentId, incidentSize, role: incidentSize === 1 ? 'primary' : 'merged' });

  it("tells staff of an incident once — its primary's dispatch — however many calls merge into it; subscribers get every call", async () => {
    await subscribe(h, { url: h.webhook.url, events: ['dispatch.assigned'] });
    const incident = randomUUID();
    const sizes = [1, 2, 3, 9, 10, 11, 99, 100, 101, 1000];
    for (const size of sizes) await h.deliver(assignedEvent(call(incident, size)));
    expect(h.webhook.received).toHaveLength(sizes.length);
    expect(smsTo(h.smsGateway.received).map((s) => s.to)).toEqual(['+8613800000001']);
    expect(h.robot.received).toHaveLength(1);
    // Another incident (another 台区, or the same one once restored) is news again.
    await h.deliver(assignedEvent(call(randomUUID(), 1)));
    expect(h.smsGateway.received).toHaveLength(2);
  });

  it('a merged call that overtakes its primary tells no staff; the primary still does', async () => {
    const incident = randomUUID();
    const merged = assignedEvent(call(incident, 2));
    await h.deliver(merged);
    expect([h.smsGateway.received.length, h.robot.received.length]).toEqual([0, 0]);
    await h.deliver(assignedEvent(call(incident, 1)));
    expect([h.smsGateway.received.length, h.robot.received.length]).toEqual([1, 1]);
    // The merged call is still known for its later events (a cancellation reaches the group).
    expect((await h.db.pool.query('SELECT 1 FROM notification.work_order_contacts WHERE work_order_id = $1', [merged.data.workOrderId])).rowCount).toBe(1);
  });

  it('escalates each stage and level of an incident once, not once per caller', async () => {
    const incident = randomUUID();
    const calls = [incidentCall(incident, 1), incidentCall(incident, 2), incidentCall(incident, 3)];
    for (const call of calls) await h.deliver(assignedEvent(call));
    h.smsGateway.received.length = 0;
    h.robot.received.length = 0;
    for (const call of calls) await h.deliver(warningEvent(warningData(call.workOrderId)));
    for (const call of calls) await h.deliver(breachedEvent(breachedData(call.workOrderId, { level: 2, notify: ['supervisor'] })));
    for (const call of calls) await h.deliver(breachedEvent(breachedData(call.workOrderId, { level: 3, notify: ['supervisor'] })));
    expect(smsTo(h.smsGateway.received).map((s) => s.text.slice(0, s.text.indexOf('】') + 1))).toEqual([
      '【时限预警】',
      '【超时告警·2级】',
      '【超时告警·3级】',
    ]);
    expect(h.robot.received).toHaveLength(3);
  });

  it('keeps telling staff of each work order that is in no incident', async () => {
    for (let i = 0; i < 3; i++) await h.deliver(assignedEvent(assignedData({ incidentId: null })));
    expect(h.smsGateway.received).toHaveLength(3);
  });
});
