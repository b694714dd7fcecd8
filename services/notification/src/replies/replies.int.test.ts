import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Subscription } from '@griddispatch/bus';
import { buildEvent, EventTypeName, parseEvent, Topics, type CloudEvent, type ReplyReceivedV1 } from '@griddispatch/contracts';
import { waitForIdle } from '@griddispatch/testkit';
import { replyCatalog } from '../templates/replies.ts';
import { assignedData, assignedEvent, updatedData, updatedEvent } from '../testing/fixtures.ts';
import { startHarness, type Harness } from '../testing/harness.ts';
import { receiveSms, type ReceiveSmsDeps } from './receive-sms.ts';

// The notification side of replies by SMS, against PostgreSQL with a clock the test moves: when a
// code stops working (its time, its work order leaving `assigned`, a reassignment), what a caller's
// reply answers (the latest ask to that number, within the window, made before it was sent), and
// what is told to intake on replies.received.

const MANAGER = '+8613800000001';
let h: Harness;
let deps: ReceiveSmsDeps;
let heard: ReplyReceivedV1[];
let listener: Subscription;

beforeAll(async () => {
  h = await startHarness({ env: { NOTIFY_ACK_CODE_TTL: '30m', NOTIFY_CALLBACK_REPLY_WINDOW: '2d' } });
  deps = { pool: h.db.pool, logger: h.logger, config: h.config, replies: replyCatalog('zh-CN'), now: h.clock.now, wake: () => undefined };
  listener = await h.bus.subscribe({
    groupId: 'replies-test',
    topics: [Topics.repliesReceived],
    handler: async (m) => void heard.push((parseEvent(m.value) as CloudEvent<'cn.griddispatch.reply.received.v1'>).data),
  });
});
afterAll(async () => {
  await listener?.stop();
  await h?.close();
});
beforeEach(() => {
  heard = [];
  h.smsGateway.received.length = 0;
});

const sent = () => h.smsGateway.received.map((r) => JSON.parse(r.body) as { to: string; text: string; params: Record<string, string> });

/** Dispatches a new work order and answers the code its manager got. */
async function dispatched(): Promise<{ workOrderId: string; code: string }> {
  const data = assignedData();
  await h.deliver(assignedEvent(data));
  const sms = sent().find((m) => m.to === MANAGER && m.params.workOrder === data.workOrderId.replace(/-/g, '').slice(0, 8).toUpperCase());
  expect(sms?.params.code).toMatch(/^[2-9A-HJKMNP-Z]{4}$/);
  h.smsGateway.received.length = 0;
  return { workOrderId: data.workOrderId, code: sms!.params.code! };
}

async function reply(from: string, text: string, at = h.clock.now()) {
  const [result] = await receiveSms(deps, [{ from, text, at: at.toISOString() }]);
  // What it published leaves through the outbox relay: wait until the outbox is empty (published), then for the listener.
  for (let waited = 0; Number((await h.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM notification.outbox')).rows[0]!.n) > 0; waited += 20) {
    if (waited > 10_000) throw new Error('the outbox was not published');
    await new Promise((r) => setTimeout(r, 20));
  }
  await waitForIdle(h.bus);
  await h.service.tick();
  return result!;
}

describe('acknowledge by reply', () => {
  it('a code works once, from its addressee, within its time', async () => {
    const { workOrderId, code } = await dispatched();
    expect(await reply('138 0000 0001', `1 ${code}`)).toEqual({ outcome: 'acknowledged', id: workOrderId, replied: false });
    expect(heard).toEqual([{ kind: 'acknowledge', workOrderId, by: 'S-mgr', code, at: h.clock.now().toISOString() }]);
    expect(sent()).toEqual([]);
  });

  it('a reply after the code expired is refused and told why; nothing reaches intake', async () => {
    const { code } = await dispatched();
    h.clock.advance(31 * 60_000);
    expect(await reply(MANAGER, `1 ${code}`)).toEqual({ outcome: 'refused', reason: 'stale_code', replied: true });
    expect(sent()).toEqual([expect.objectContaining({ to: MANAGER, text: expect.stringContaining(`确认码${code}已失效`) })]);
    expect(heard).toEqual([]);
  });

  it('a code stops working when its work order leaves assigned (acknowledged in the app first)', async () => {
    const { workOrderId, code } = await dispatched();
    await h.deliver(updatedEvent(updatedData(workOrderId, { type: 'acknowledged', previousStatus: 'assigned', status: 'acknowledged' })));
    h.smsGateway.received.length = 0;
    expect(await reply(MANAGER, `1 ${code}`)).toEqual({ outcome: 'refused', reason: 'stale_code', replied: true });
    expect(heard).toEqual([]);
  });

  it("a reassignment ends the old addressee's code and gives the new one their own", async () => {
    const { workOrderId, code } = await dispatched();
    await h.deliver(
      updatedEvent(
        updatedData(workOrderId, { type: 'reassigned', previousStatus: 'assigned', status: 'assigned', assignee: { staffId: 'S-ast', name: '李娜' } }),
      ),
    );
    const fresh = sent().find((m) => m.to === '+8613800000002');
    expect(fresh?.text).toMatch(/回复“1 [2-9A-HJKMNP-Z]{4}”确认接单$/);
    expect(fresh!.params.code).not.toBe(code);
    h.smsGateway.received.length = 0;
    expect(await reply(MANAGER, `1 ${code}`)).toMatchObject({ outcome: 'refused', reason: 'stale_code' });
    expect(await reply('13800000002', `1 ${fresh!.params.code}`)).toEqual({ outcome: 'acknowledged', id: workOrderId, replied: false });
    expect(heard).toEqual([expect.objectContaining({ kind: 'acknowledge', workOrderId, by: 'S-ast' })]);
  });
});

describe('callback answers', () => {
  const ask = (requestId: string, phone: string) =>
    buildEvent({
      type: EventTypeName.callbackRequested,
      source: 'intake',
      subject: requestId,
      time: h.clock.now(),
      data: { requestId, incidentId: 'INC-1', phone, restoredAt: h.clock.now().toISOString(), askedAt: h.clock.now().toISOString() },
    });

  it('texts the ask once, and takes the reply from that number as its answer', async () => {
    const requestId = randomUUID();
    const event = ask(requestId, '139 0000 0009');
    await h.deliver(event);
    await h.deliver(event);
    expect(sent()).toEqual([expect.objectContaining({ to: '+8613900000009', text: expect.stringContaining('回复1 已恢复供电，回复2 仍未恢复') })]);
    h.clock.advance(60_000);
    expect(await reply('13900000009', '2 1')).toEqual({ outcome: 'callback_answered', id: requestId, replied: false });
    expect(heard).toEqual([{ kind: 'callback', requestId, reply: 'still_out', satisfaction: 1, at: h.clock.now().toISOString() }]);
  });

  it('refuses a message sent before the ask, or after the window, without texting back; explains an unreadable one', async () => {
    const requestId = randomUUID();
    const askedAt = h.clock.now();
    await h.deliver(ask(requestId, '13900000008'));
    h.smsGateway.received.length = 0;
    // Out of order: a "1" sent an hour before the ask answers nothing.
    expect(await reply('13900000008', '1', new Date(askedAt.getTime() - 3_600_000))).toEqual({ outcome: 'refused', reason: 'not_asked', replied: false });
    expect(await reply('13900000008', '好的谢谢')).toEqual({ outcome: 'refused', reason: 'not_understood', replied: true });
    expect(sent()).toEqual([expect.objectContaining({ to: '+8613900000008', text: expect.stringContaining('未能识别您的回复') })]);
    h.clock.advance(3 * 86_400_000);
    expect(await reply('13900000008', '1')).toEqual({ outcome: 'refused', reason: 'not_asked', replied: false });
    expect(heard).toEqual([]);
  });
});
