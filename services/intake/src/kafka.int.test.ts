import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, type Bus, type IncomingMessage, type Subscription } from '@griddispatch/bus';
import { CLOUDEVENTS_CONTENT_TYPE, parseEvent, RequestView, serializeEvent, type RequestReceivedV1 } from '@griddispatch/contracts';
import { createTestKafkaBus, testGroupId, testTopicPrefix, waitForIdle } from '@griddispatch/testkit';
import { assignedData, incidentData, KEYS, requestBody, startHarness, type Harness } from './testing/harness.ts';

// intake through real PostgreSQL and real Kafka: the way into requests.received, the read model
// fed from Kafka, and a Kafka outage that intake rides out with its outbox.

const run = promisify(execFile);
const KAFKA_SH = new URL('../../../infra/kafka/kafka.sh', import.meta.url).pathname;
const silent = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('intake with Kafka and PostgreSQL', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      bus: await createTestKafkaBus({ clientId: 'intake-test' }),
      settleTimeoutMs: 30_000,
      record: ['requests.received', 'workorders.events', 'meters.events'],
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('puts an accepted request on requests.received, keyed by its id', async () => {
    const body = requestBody();
    const res = await h.post('/v1/requests', body);
    expect(res.statusCode).toBe(202);
    const { id } = res.json();
    const record = await eventually('the record on requests.received', async () => (h.published.get('requests.received') ?? []).find((m) => m.key === id));
    expect(record.headers['content-type']).toBe(CLOUDEVENTS_CONTENT_TYPE);
    const event = parseEvent(record.value);
    expect(event).toMatchObject({ specversion: '1.0', type: 'cn.griddispatch.request.received.v1', source: '/griddispatch/intake', subject: id });
    const data = event.data as RequestReceivedV1;
    expect(data).toMatchObject({ id, source: '95598', externalId: body.externalId, category: 'fault_repair', urgency: 'urgent' });
    // The relay deletes a published row with its next read (or within 50 ms).
    await eventually('the outbox row to be deleted', async () => (await h.count('outbox')) === 0);
  });

  it('builds the read model from events on Kafka and publishes work-order events there', async () => {
    const { id } = (await h.post('/v1/requests', requestBody())).json();
    await h.emit('cn.griddispatch.dispatch.assigned.v1', assignedData({ id }));
    const assigned = await eventually('the assignment in the read model', async () => {
      const view = RequestView.parse((await h.get(`/v1/requests/${id}`)).json());
      return view.status === 'assigned' ? view : undefined;
    });
    expect(assigned.grid).toEqual({ id: 'grid-hh-3', name: '后湖3号网格', kind: 'district' });
    expect((await h.post(`/v1/work-orders/${id}/events`, { type: 'acknowledged', by: '王建国' }, KEYS.field)).statusCode).toBe(200);
    const record = await eventually('the record on workorders.events', async () => (h.published.get('workorders.events') ?? []).find((m) => m.key === id));
    expect(parseEvent(record.value).data).toMatchObject({ workOrderId: id, type: 'acknowledged', previousStatus: 'assigned', status: 'acknowledged' });
    // Intake consumes its own event too; the timeline keeps one entry for it.
    await h.settle();
    const view = RequestView.parse((await h.get(`/v1/requests/${id}`)).json());
    expect(view.timeline.map((t) => t.type)).toEqual(['request.received', 'dispatch.assigned', 'workorder.acknowledged']);
  });

  it('puts meter events on meters.events keyed by 台区, once per (source, eventId)', async () => {
    const events = [
      { eventId: 'K-1', kind: 'power_off', meterId: 'M-K-1', districtCode: 'HH-TQ-017', at: new Date(Date.now() - 60_000).toISOString() },
      { eventId: 'K-2', kind: 'power_off', meterId: 'M-K-2', at: new Date(Date.now() - 30_000).toISOString() },
    ];
    expect((await h.post('/v1/meter-events', { source: 'hes-kafka', events })).json()).toEqual({ accepted: 2, duplicates: 0 });
    expect((await h.post('/v1/meter-events', { source: 'hes-kafka', events })).json()).toEqual({ accepted: 0, duplicates: 2 });
    const records = await eventually('both records on meters.events', async () => {
      const found = (h.published.get('meters.events') ?? []).filter((m) => parseEvent(m.value).type === 'cn.griddispatch.meter.event.v1');
      return found.length >= 2 ? found : undefined;
    });
    await h.settle();
    // Two keys, so two partitions: no order between them.
    const byKey = new Map((h.published.get('meters.events') ?? []).map((m) => [m.key, (parseEvent(m.value).data as { eventId: string }).eventId]));
    expect(byKey).toEqual(
      new Map([
        ['HH-TQ-017', 'K-1'],
        ['M-K-2', 'K-2'],
      ]),
    );
    expect(records).toHaveLength(2);
  });

  it('opens the work order of an incident without a call once from incidents.events on Kafka, redelivered or not', async () => {
    const opened = await h.emit('cn.griddispatch.incident.opened.v1', incidentData({ id: 'inc-kafka-meter-1', origin: 'meter', callCount: 0 }));
    await h.bus.publish('incidents.events', [{ key: opened.subject, value: serializeEvent(opened) }]);
    const received = await eventually('the incident work order on requests.received', async () =>
      (h.published.get('requests.received') ?? [])
        .map((m) => parseEvent(m.value).data as RequestReceivedV1)
        .find((d) => d.externalId === 'incident:inc-kafka-meter-1'),
    );
    expect(received).toMatchObject({ source: 'grid-dispatch', category: 'fault_repair', incidentId: 'inc-kafka-meter-1' });
    await h.settle();
    const all = (h.published.get('requests.received') ?? []).filter(
      (m) => (parseEvent(m.value).data as RequestReceivedV1).externalId === 'incident:inc-kafka-meter-1',
    );
    expect(all).toHaveLength(1);
    expect(RequestView.parse((await h.get(`/v1/requests/${received.id}`)).json())).toMatchObject({ incidentId: 'inc-kafka-meter-1', status: 'received' });
  });
});

describe('Kafka outage', () => {
  // A broker of our own on a port no other test uses: down while requests come in, then started.
  const port = '29592';
  const env = { ...process.env, KAFKA_PORT: port };
  const prefix = testTopicPrefix();
  let h: Harness | undefined;
  let reader: Bus | undefined;
  let readerSub: Subscription | undefined;

  afterAll(async () => {
    await readerSub?.stop();
    await reader?.close();
    await h?.close();
    await run('bash', [KAFKA_SH, 'down'], { env, timeout: 90_000 });
  }, 180_000);

  // At least once on the topic, exactly once in effect (docs/architecture.md#reliability-rules): a
  // send that fails while the broker comes back is sent again, and if the broker had appended it
  // after all, the record is there twice — the same event, which consumers' inboxes absorb.
  it('accepts 100 requests while Kafka is down and publishes each when it is back, never a new event twice', async () => {
    await expect(run('bash', [KAFKA_SH, 'status'], { env })).rejects.toMatchObject({ code: 3 });
    const bus = createKafkaBus({ brokers: [`127.0.0.1:${port}`], prefix, clientId: 'intake-outage', logger: silent, publishRetries: 1 });
    h = await startHarness({ bus, record: [], consumerStartWaitMs: 0, relay: { retryBackoffMs: 200, maxRetryBackoffMs: 2_000 } });

    const ids: string[] = [];
    for (let batch = 0; batch < 5; batch++) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => h!.post('/v1/requests', requestBody())));
      for (const a of answers) {
        expect(a.statusCode).toBe(202);
        ids.push(a.json().id);
      }
    }
    expect(new Set(ids).size).toBe(100);
    expect(await h.count('outbox')).toBe(100);
    expect((await h.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await h.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);

    await run('bash', [KAFKA_SH, 'up'], { env: { ...env, GD_TOPIC_PREFIX: prefix }, timeout: 180_000 });
    await eventually('the outbox to drain', async () => (await h!.count('outbox')) === 0, 120_000);

    reader = createKafkaBus({ brokers: [`127.0.0.1:${port}`], prefix, clientId: 'intake-outage-reader', logger: silent });
    const seen: IncomingMessage[] = [];
    readerSub = await reader.subscribe({ groupId: testGroupId('outage-reader'), topics: ['requests.received'], handler: async (m) => void seen.push(m) });
    await eventually('100 records', async () => seen.length >= 100, 60_000);
    await waitForIdle(reader, { timeoutMs: 30_000, settleMs: 1_000 });
    // Every accepted request is there, and nothing else: a repeat carries the same event.
    expect(new Set(seen.map((m) => m.key))).toEqual(new Set(ids));
    const eventOf = new Map<string, string>();
    for (const m of seen) {
      const event = parseEvent(m.value);
      expect(event.subject).toBe(m.key);
      expect(eventOf.get(m.key) ?? event.id).toBe(event.id);
      eventOf.set(m.key, event.id);
    }
    expect(eventOf.size).toBe(100);
    await eventually(
      'intake to report ready once its consumer joined',
      async () => (await h!.inject({ method: 'GET', url: '/readyz' })).statusCode === 200,
      60_000,
    );
  }, 300_000);
});
