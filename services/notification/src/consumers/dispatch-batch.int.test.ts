import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidEventError } from '@griddispatch/contracts';
import { ACK_CODE_ALPHABET } from '../replies/parse-reply.ts';
import { AckCodeBatch } from '../replies/ack-codes.ts';
import { consumerDeps, messagesOf } from '../testing/batch.ts';
import { assignedData, assignedEvent } from '../testing/fixtures.ts';
import { deliveryRows, startHarness, subscribe, type Harness } from '../testing/harness.ts';
import { smsDrafts } from '../use-cases/draft-deliveries.ts';
import { dispatchAssignedConsumer } from './dispatch-assigned.ts';

// dispatch.assigned works batch-first (issue 12): what a batch reads once and writes at its end
// must come out as if its events had been applied one after the other.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());
beforeEach(async () => {
  await h.db.pool.query('TRUNCATE notification.subscriptions, notification.deliveries, notification.ack_codes CASCADE');
});

const smsOf = async (eventId: string): Promise<(string | null)[]> =>
  (
    await h.db.pool.query<{ code: string | null }>(
      `SELECT payload->'params'->>'code' AS code FROM notification.deliveries WHERE event_id = $1 AND channel = 'sms' ORDER BY recipient`,
      [eventId],
    )
  ).rows.map((r) => r.code);

describe('dispatch.assigned in one batch', () => {
  it('gives a re-dispatch in the same batch the same code, keeps the later copy, and tells an incident once', async () => {
    await subscribe(h, { url: h.webhook.url, events: ['dispatch.assigned'] });
    const first = assignedData({ incidentId: null });
    const again = assignedData({ workOrderId: first.workOrderId, request: first.request, incidentId: null, districtCode: 'HH-TQ-018' });
    const incident = randomUUID();
    const primary = assignedData({ incidentId: incident, role: 'primary' });
    const merged = assignedData({ incidentId: incident, role: 'merged' });
    const events = [assignedEvent(first), assignedEvent(again), assignedEvent(merged), assignedEvent(primary)];
    await dispatchAssignedConsumer(consumerDeps(h)).batchHandler(messagesOf(events));

    const [a, b, m, p] = await Promise.all(events.map((e) => smsOf(e.id)));
    expect(a).toEqual([expect.stringMatching(/^[2-9A-HJKMNP-Z]{4}$/)]);
    expect(b).toEqual(a);
    expect(m).toEqual([]);
    expect(p).toHaveLength(1);
    expect(p).not.toEqual(a);
    const { rows: codes } = await h.db.pool.query('SELECT work_order_id, code FROM notification.ack_codes ORDER BY work_order_id');
    expect(codes).toHaveLength(2);
    const { rows: copy } = await h.db.pool.query('SELECT district_code, source_event_id FROM notification.work_order_contacts WHERE work_order_id = $1', [
      first.workOrderId,
    ]);
    expect(copy).toEqual([{ district_code: 'HH-TQ-018', source_event_id: events[1]!.id }]);
    // Every event reaches its subscriber; the merged call only them.
    for (const e of events) expect(await deliveryRows(h, "event_id = $1 AND channel = 'webhook'", [e.id])).toHaveLength(1);
    expect(await deliveryRows(h, 'event_id = $1', [events[2]!.id])).toHaveLength(1);
  });

  it('changes nothing when the batch comes again, and the poison record of a failed batch leaves the others to their retry', async () => {
    const consumer = dispatchAssignedConsumer(consumerDeps(h));
    const good = [assignedEvent(assignedData()), assignedEvent(assignedData())];
    const messages = messagesOf(good);
    const poison = { ...messages[0]!, value: Buffer.from('{"not":"an event"}'), offset: '2' };
    await expect(consumer.batchHandler([...messages, poison])).rejects.toThrow(InvalidEventError);
    expect(await deliveryRows(h)).toHaveLength(0);
    // The bus retries record by record: each a batch of one.
    for (const m of messages) await consumer.handler(m);
    await expect(consumer.handler(poison)).rejects.toThrow(InvalidEventError);
    const once = await deliveryRows(h);
    expect(once).toHaveLength(4);
    const codes = await h.db.pool.query('SELECT code FROM notification.ack_codes ORDER BY code');
    await consumer.batchHandler(messages);
    expect(await deliveryRows(h)).toEqual(once);
    expect((await h.db.pool.query('SELECT code FROM notification.ack_codes ORDER BY code')).rows).toEqual(codes.rows);
  });
});

describe('AckCodeBatch', () => {
  // A code of one letter repeated: newAckCode draws it from a random() that always answers `at`.
  const letter = (c: string) => (ACK_CODE_ALPHABET.indexOf(c) + 0.5) / ACK_CODE_ALPHABET.length;

  it('draws again past a code live elsewhere, and never gives two pairs of a batch one code', async () => {
    const client = await h.db.pool.connect();
    try {
      const now = h.clock.now();
      await client.query(
        `INSERT INTO notification.ack_codes (work_order_id, phone, staff_id, code, status, issued_at, expires_at)
         VALUES ('other', '+8613900000000', 'S-x', '2222', 'live', $1, $1::timestamptz + interval '1 hour')`,
        [now],
      );
      const draws = ['2', '2', '2', '2', '3', '3', '3', '3', '3', '3', '3', '3', '4', '4', '4', '4'];
      let i = 0;
      const batch = new AckCodeBatch(consumerDeps(h).replies, 3_600_000, () => letter(draws[Math.min(i++, draws.length - 1)]!));
      const people = [
        { staffId: 'S-a', name: 'a', role: 'manager' as const, phone: '+8613800000011' },
        { staffId: 'S-b', name: 'b', role: 'manager' as const, phone: '+8613800000012' },
      ];
      const rendered = { sms: { text: '派单', params: {} }, markdown: '', text: '派单' };
      const a = batch.add('wo-a', people.slice(0, 1), smsDrafts(['+8613800000011'], rendered, 'dispatch.assigned'), now);
      const b = batch.add('wo-b', people.slice(1), smsDrafts(['+8613800000012'], rendered, 'dispatch.assigned'), now);
      await batch.issue(client);
      const codeOf = (d: typeof a) => (d[0]!.payload.channel === 'sms' ? d[0]!.payload.params.code : undefined);
      // wo-a: 2222 is live elsewhere, 3333 is next; wo-b's draws of 3333 are wo-a's, so 4444.
      expect([codeOf(a), codeOf(b)]).toEqual(['3333', '4444']);
    } finally {
      client.release();
    }
  });
});
