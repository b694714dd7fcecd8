import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DlqHeaders, type Bus, type IncomingMessage, type Subscription } from '@griddispatch/bus';
import { dlqTopic, serializeEvent, Topics, type CloudEvent, type Topic } from '@griddispatch/contracts';
import { buildGridRouting, loadConfig as routingConfig, type GridRoutingHandle } from '@griddispatch/grid-routing';
import { buildHttpHost, type ServiceHandle } from '@griddispatch/http';
import { buildIntake, loadConfig as intakeConfig, type IntakeHandle } from '@griddispatch/intake';
import { buildNotification, loadConfig as notificationConfig, type NotificationHandle } from '@griddispatch/notification';
import { createLogger } from '@griddispatch/observability';
import { DEFAULT_POLICY } from '@griddispatch/sla';
import { buildSlaTimer, loadConfig as slaTimerConfig, type SlaTimerHandle } from '@griddispatch/sla-timer';
import { createTestKafkaBus, freshDatabase, kafkaBrokers, testGroupId, testTopicPrefix, waitForIdle, type FreshDatabase } from '@griddispatch/testkit';
import { malformedRecords, noise, validEvent, type CorpusEventType } from './fixtures.ts';

// The bad-input corpus for every consumed topic (issue 8): hostile records produced straight to
// the topic with a raw Kafka producer, each followed by a valid record with the same key (so on
// the same partition). Every consumer of every topic — the real services, built with buildX on
// their own Kafka bus as in the distributed mode — must dead-letter each malformed record with
// the error in headers, go on to apply the valid one behind it, store nothing from the bad one,
// and stay ready.
//
// Not everything hostile is malformed. What each service does with the well-formed cases:
// - A valid event about a work order the service never heard of:
//     intake        ignored and committed (its inbox marks it; no request row, no timeline entry):
//                   every work order starts as an intake request, one it never stored cannot be shown;
//     sla-timer     applied: dispatch.assigned introduces a work order; a workorders.events record
//                   may overtake its dispatch (other topic, other key), so it is remembered on an
//                   empty work-order row that the dispatch later fills;
//     notification  applied: a dispatch is remembered; an SLA event or a cancellation is retried
//                   (its dispatch may still be on its way) and on the last attempt goes to the
//                   operator desk instead of the grid — never dead-lettered, never dropped.
//                   An incident event about an incident it never heard of is applied too: a
//                   district incident's event goes to its subscribers only.
//     (grid-routing: every requests.received introduces its request; there is no unknown one.)
// - An event id seen before, with other content: the event id is the dedupe key (docs/architecture.md#reliability-rules), so
//   it is a redelivery: committed, and the first content stands.
// - SQL injection in ids: ids travel as bind parameters, never as SQL. Event ids are opaque
//   strings (CloudEvents), so such an event is applied like any other. Work-order ids are the
//   request ids intake issued — UUIDs: intake and grid-routing dead-letter an event whose work
//   order id is no UUID; sla-timer and notification treat work-order ids as opaque keys and
//   apply it like an event about an unknown work order.

const FAST_RETRY = { maxAttempts: 3, backoffMs: 10 };
const logger = createLogger({ service: 'corpus-topics', level: process.env.LOG_LEVEL ?? 'silent' });

type Consumer = 'intake' | 'grid-routing' | 'sla-timer' | 'notification';
type Outcome = 'dlq' | 'applied' | 'already-applied';

/** The topics whose hostile corpus is sent (the outage topics join as their consumers land). */
type CorpusTopic =
  | typeof Topics.requestsReceived
  | typeof Topics.workordersEvents
  | typeof Topics.dispatchAssigned
  | typeof Topics.dispatchUnroutable
  | typeof Topics.slaWarnings
  | typeof Topics.slaBreaches
  | typeof Topics.incidentsEvents;

const CONSUMERS: Record<CorpusTopic, Consumer[]> = {
  [Topics.requestsReceived]: ['grid-routing'],
  [Topics.workordersEvents]: ['intake', 'sla-timer', 'notification'],
  [Topics.dispatchAssigned]: ['intake', 'sla-timer', 'notification'],
  [Topics.dispatchUnroutable]: ['intake', 'notification'],
  [Topics.slaWarnings]: ['intake', 'notification'],
  [Topics.slaBreaches]: ['intake', 'notification'],
  // sla-timer does not consume it: merged work orders follow their incident in intake.
  [Topics.incidentsEvents]: ['intake', 'notification'],
};

const TYPE_OF: Record<CorpusTopic, CorpusEventType> = {
  [Topics.requestsReceived]: 'cn.griddispatch.request.received.v1',
  [Topics.workordersEvents]: 'cn.griddispatch.workorder.updated.v1',
  [Topics.dispatchAssigned]: 'cn.griddispatch.dispatch.assigned.v1',
  [Topics.dispatchUnroutable]: 'cn.griddispatch.dispatch.unroutable.v1',
  [Topics.slaWarnings]: 'cn.griddispatch.sla.warning.v1',
  [Topics.slaBreaches]: 'cn.griddispatch.sla.breached.v1',
  [Topics.incidentsEvents]: 'cn.griddispatch.incident.updated.v1',
};

/** A valid event of another topic that this topic's consumers would otherwise act on. */
const MISROUTED: Record<CorpusTopic, CorpusEventType> = {
  [Topics.requestsReceived]: 'cn.griddispatch.dispatch.unroutable.v1',
  [Topics.workordersEvents]: 'cn.griddispatch.sla.breached.v1',
  [Topics.dispatchAssigned]: 'cn.griddispatch.workorder.updated.v1',
  [Topics.dispatchUnroutable]: 'cn.griddispatch.dispatch.assigned.v1',
  [Topics.slaWarnings]: 'cn.griddispatch.sla.breached.v1',
  [Topics.slaBreaches]: 'cn.griddispatch.sla.warning.v1',
  [Topics.incidentsEvents]: 'cn.griddispatch.dispatch.assigned.v1',
};

const SQL_WORK_ORDER = "'; DROP TABLE intake.requests; DROP TABLE sla_timer.timers; --";
const SQL_EVENT_ID = "x'); DELETE FROM notification.inbox; DELETE FROM intake.timeline; --";
const DUPLICATE_LEVEL = 99;

interface Entry {
  topic: Topic;
  /** `<topic>#<n>`, sent as header `x-corpus` so the DLQ copy can be matched to its record. */
  tag: string;
  name: string;
  key: string;
  value: Buffer | null;
  eventId?: string;
  workOrderId?: string;
  outcomes: Partial<Record<Consumer, Outcome>>;
}

let db: FreshDatabase;
const buses: Bus[] = [];
let intake: IntakeHandle;
let routing: GridRoutingHandle;
let slaTimer: SlaTimerHandle;
let notification: NotificationHandle;
let host: FastifyInstance;
let producer: Producer;
const readers: Subscription[] = [];
const dlq = new Map<string, IncomingMessage[]>();
const groups = {
  intake: testGroupId('corpus-intake'),
  routing: testGroupId('corpus-routing'),
  slaTimer: testGroupId('corpus-sla'),
  notification: testGroupId('corpus-notify'),
};
// grid-routing runs on its own prefix: the decisions it publishes for the corpus' valid requests
// must not reach the other services, whose topics carry only what the corpus produced.
const prefix = testTopicPrefix();
const routingPrefix = testTopicPrefix();
const knownWorkOrders: string[] = [];

function groupOf(consumer: Consumer, topic: Topic): string {
  switch (consumer) {
    case 'intake':
      return groups.intake;
    case 'grid-routing':
      return groups.routing;
    case 'sla-timer':
      return groups.slaTimer;
    case 'notification':
      return `${groups.notification}.${topic}`;
  }
}

function prefixOf(topic: Topic): string {
  return topic === Topics.requestsReceived ? routingPrefix : prefix;
}

beforeAll(async () => {
  db = await freshDatabase('corpus_topics');
  const bus = async (p: string, name: string) => {
    const b = await createTestKafkaBus({ prefix: p, logger, clientId: `corpus-${name}` });
    buses.push(b);
    return b;
  };
  const [intakeBus, routingBus, slaBus, notificationBus, readerBus, routingReaderBus] = await Promise.all([
    bus(prefix, 'intake'),
    bus(routingPrefix, 'routing'),
    bus(prefix, 'sla'),
    bus(prefix, 'notification'),
    bus(prefix, 'dlq-reader'),
    bus(routingPrefix, 'dlq-reader'),
  ]);
  intake = await buildIntake({
    pool: db.pool,
    bus: intakeBus,
    logger,
    config: { ...intakeConfig({}), groupId: groups.intake },
    consumerRetry: FAST_RETRY,
    relay: { pollIntervalMs: 250 },
  });
  routing = await buildGridRouting({
    pool: db.pool,
    bus: routingBus,
    logger,
    config: routingConfig({}),
    policy: DEFAULT_POLICY,
    groupId: groups.routing,
    consumerRetry: FAST_RETRY,
  });
  slaTimer = await buildSlaTimer({
    pool: db.pool,
    bus: slaBus,
    logger,
    config: slaTimerConfig({}),
    policy: DEFAULT_POLICY,
    groupId: groups.slaTimer,
    timers: 'manual',
    consumerRetry: FAST_RETRY,
  });
  notification = await buildNotification({
    pool: db.pool,
    bus: notificationBus,
    logger,
    config: notificationConfig({}),
    groupId: groups.notification,
    deliveryLoop: false,
    consumerRetry: FAST_RETRY,
  });
  host = await buildHttpHost({ pool: db.pool, logger, services: [intake], apiKeys: 'corpus:corpus-secret-0000001-topics:admin', rateLimit: false });
  await Promise.all([intake, routing, slaTimer, notification].map((s) => s.start()));

  const collect = async (b: Bus, topics: Topic[]) => {
    readers.push(
      await b.subscribe({
        groupId: testGroupId('corpus-dlq-reader'),
        topics: topics.map(dlqTopic),
        handler: async (m) => {
          dlq.set(m.topic, [...(dlq.get(m.topic) ?? []), m]);
        },
      }),
    );
  };
  await Promise.all([
    collect(readerBus, [
      Topics.workordersEvents,
      Topics.dispatchAssigned,
      Topics.dispatchUnroutable,
      Topics.slaWarnings,
      Topics.slaBreaches,
      Topics.incidentsEvents,
    ]),
    collect(routingReaderBus, [Topics.requestsReceived]),
  ]);

  // Work orders intake knows, so valid events about them change its read model.
  for (let i = 0; i < 4; i++) {
    const res = await host.inject({
      method: 'POST',
      url: '/v1/requests',
      headers: { authorization: 'Bearer corpus-secret-0000001-topics' },
      payload: { source: '95598', externalId: `CORPUS-KNOWN-${i}`, category: 'fault_repair', location: { districtCode: 'HH-TQ-017' } },
    });
    expect(res.statusCode).toBe(202);
    knownWorkOrders.push((res.json() as { id: string }).id);
  }

  const kafka = new Kafka({
    clientId: 'corpus-raw-producer',
    brokers: process.env.KAFKA_BROKERS?.split(',') ?? (await kafkaBrokers()),
    logLevel: logLevel.NOTHING,
  });
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await host?.close();
  for (const r of readers) await r.stop();
  for (const s of [intake, routing, slaTimer, notification]) await s?.stop();
  for (const b of buses) await b.close();
  await db?.drop();
});

/** The corpus of one topic: a valid record, then each hostile record followed by another valid one. */
function corpusFor(topic: CorpusTopic): Entry[] {
  const type = TYPE_OF[topic];
  const consumers = CONSUMERS[topic];
  const key = topic === Topics.dispatchAssigned ? 'HH-G03' : `corpus-${topic}`;
  const all = (outcome: Outcome) => Object.fromEntries(consumers.map((c) => [c, outcome])) as Partial<Record<Consumer, Outcome>>;
  let n = 0;
  // Incident events are about incidents, whose ids grid-routing issues (no work order's).
  const workOrder = () =>
    topic === Topics.requestsReceived ? randomUUID() : topic === Topics.incidentsEvents ? `INC-CORPUS-${n}` : knownWorkOrders[n % knownWorkOrders.length]!;
  const entries: Entry[] = [];
  const push = (name: string, value: Buffer | null, outcomes: Partial<Record<Consumer, Outcome>>, ids: { eventId?: string; workOrderId?: string } = {}) => {
    entries.push({ topic, tag: `${topic}#${entries.length}`, name, key, value, outcomes, ...ids });
  };
  const pushEvent = (name: string, event: CloudEvent, outcomes: Partial<Record<Consumer, Outcome>>) =>
    push(name, Buffer.from(serializeEvent(event)), outcomes, { eventId: event.id, workOrderId: event.subject });
  const valid = () => {
    n += 1;
    pushEvent(`valid #${n}`, validEvent(type, workOrder(), { level: n }), all('applied'));
  };

  valid();
  const first = entries[0]!;
  const hostile: (() => void)[] = malformedRecords(type, MISROUTED[topic], workOrder()).map(
    (r) => () => push(r.name, r.value, all('dlq'), r.eventId ? { eventId: r.eventId } : {}),
  );
  hostile.push(
    () => pushEvent('1 MB event id', validEvent(type, workOrder(), { id: noise(1_000_000) }), all('dlq')),
    () => pushEvent('SQL injection in the event id', validEvent(type, workOrder(), { id: `${SQL_EVENT_ID} ${topic}` }), all('applied')),
    () => {
      const outcomes: Partial<Record<Consumer, Outcome>> = all('applied');
      for (const c of ['intake', 'grid-routing'] as const) if (outcomes[c]) outcomes[c] = 'dlq';
      pushEvent('SQL injection in the work order id', validEvent(type, SQL_WORK_ORDER), outcomes);
    },
    () =>
      pushEvent(
        'duplicate event id, other content',
        validEvent(type, first.workOrderId!, { id: first.eventId!, level: DUPLICATE_LEVEL }),
        all('already-applied'),
      ),
  );
  if (topic !== Topics.requestsReceived) hostile.push(() => pushEvent('valid event for an unknown work order', validEvent(type, randomUUID()), all('applied')));
  for (const add of hostile) {
    add();
    valid();
  }
  return entries;
}

async function produce(entries: Entry[]): Promise<void> {
  // One record per request, in order: the 1 MB records must not share a request with others.
  for (const e of entries) {
    await producer.send({ topic: `${prefixOf(e.topic)}${e.topic}`, acks: -1, messages: [{ key: e.key, value: e.value, headers: { 'x-corpus': e.tag } }] });
  }
}

async function eventIds(schema: string, table: string, column = 'event_id'): Promise<Set<string>> {
  const { rows } = await db.pool.query<{ id: string }>(`SELECT ${column} AS id FROM ${schema}.${table}`);
  return new Set(rows.map((r) => r.id));
}

function expectedIds(entries: Entry[], consumer: Consumer, pick: (e: Entry) => string | undefined = (e) => e.eventId): Set<string> {
  return new Set(
    entries
      .filter((e) => e.outcomes[consumer] === 'applied')
      .map(pick)
      .filter((id): id is string => id !== undefined),
  );
}

function sorted(set: Set<string>): string[] {
  return [...set].sort();
}

describe('bad-input corpus on every consumed topic', () => {
  const corpus = new Map<CorpusTopic, Entry[]>();

  it('dead-letters every malformed record, applies every valid one behind it, and stays ready', async () => {
    const topics = Object.keys(CONSUMERS) as CorpusTopic[];
    for (const topic of topics) corpus.set(topic, corpusFor(topic));
    // Dispatches first, so notification knows the known work orders when their SLA events come.
    await produce(corpus.get(Topics.dispatchAssigned)!);
    await Promise.all(buses.map((b) => waitForIdle(b, { timeoutMs: 60_000 })));
    await Promise.all(topics.filter((t) => t !== Topics.dispatchAssigned).map((t) => produce(corpus.get(t)!)));
    await Promise.all(buses.map((b) => waitForIdle(b, { timeoutMs: 60_000 })));

    const entries = [...corpus.values()].flat();
    const expectedDlq = entries.flatMap((e) =>
      (Object.entries(e.outcomes) as [Consumer, Outcome][]).filter(([, o]) => o === 'dlq').map(([c]) => `${e.tag}@${groupOf(c, e.topic)}`),
    );
    const deadline = Date.now() + 30_000;
    const received = () => [...dlq.values()].flat();
    while (received().length < expectedDlq.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

    // Exactly the malformed records, once per consumer group that read them; no valid one.
    const got = received().map((m) => `${m.headers['x-corpus']}@${m.headers[DlqHeaders.groupId]}`);
    expect(got.sort()).toEqual(expectedDlq.sort());

    const byTag = new Map(entries.map((e) => [e.tag, e]));
    for (const m of received()) {
      const entry = byTag.get(m.headers['x-corpus']!)!;
      const where = `${entry.tag} (${entry.name}) via ${m.headers[DlqHeaders.groupId]}`;
      expect(m.topic, where).toBe(dlqTopic(entry.topic));
      expect(m.key, where).toBe(entry.key);
      expect(m.value.equals(entry.value ?? Buffer.alloc(0)), `${where}: DLQ keeps the original bytes`).toBe(true);
      expect(m.headers[DlqHeaders.error], where).toMatch(/\S/);
      expect(m.headers[DlqHeaders.errorName], where).toMatch(/\S/);
      expect(m.headers[DlqHeaders.sourceTopic], where).toBe(`${prefixOf(entry.topic)}${entry.topic}`);
      expect(m.headers[DlqHeaders.sourcePartition], where).toMatch(/^\d+$/);
      expect(m.headers[DlqHeaders.sourceOffset], where).toMatch(/^\d+$/);
      expect(Date.parse(m.headers[DlqHeaders.failedAt] ?? ''), where).not.toBeNaN();
      // A malformed record never parses on retry: it goes at once; anything else after bounded retries.
      const attempts = m.headers[DlqHeaders.errorName] === 'InvalidEventError' ? '1' : String(FAST_RETRY.maxAttempts);
      expect(m.headers[DlqHeaders.attempts], `${where}: ${m.headers[DlqHeaders.error]}`).toBe(attempts);
    }

    // One key per topic: every record shared one partition, so each valid record really came after the bad ones.
    for (const topic of Object.keys(CONSUMERS)) {
      const partitions = new Set(
        received()
          .filter((m) => m.topic === dlqTopic(topic))
          .map((m) => m.headers[DlqHeaders.sourcePartition]),
      );
      expect(partitions.size, topic).toBe(1);
    }

    // Prototype-pollution keys stayed data.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    for (const service of [intake, routing, slaTimer, notification] as ServiceHandle[]) expect(await service.ready(), service.name).toBe(true);
  });

  it('applied every valid record and stored nothing from the bad ones', async () => {
    const entries = [...corpus.values()].flat();
    expect(entries.length).toBeGreaterThan(0);
    const poisonIds = entries.filter((e) => Object.values(e.outcomes).every((o) => o === 'dlq')).flatMap((e) => (e.eventId ? [e.eventId] : []));
    const on = (consumer: Consumer) => entries.filter((e) => e.outcomes[consumer] !== undefined);

    // Inboxes hold exactly the events each service applied (a redelivered id is there once).
    expect(sorted(await eventIds('intake', 'inbox'))).toEqual(sorted(expectedIds(on('intake'), 'intake')));
    expect(sorted(await eventIds('routing', 'inbox'))).toEqual(sorted(expectedIds(on('grid-routing'), 'grid-routing')));
    expect(sorted(await eventIds('sla_timer', 'inbox'))).toEqual(sorted(expectedIds(on('sla-timer'), 'sla-timer')));
    expect(sorted(await eventIds('notification', 'inbox'))).toEqual(sorted(expectedIds(on('notification'), 'notification')));

    // intake: the timeline of the known work orders gained exactly the applied events about them.
    const known = new Set(knownWorkOrders);
    const timeline = await db.pool.query<{ event_id: string; request_id: string }>(
      "SELECT event_id, request_id FROM intake.timeline WHERE type <> 'request.received'",
    );
    expect(sorted(new Set(timeline.rows.map((r) => r.event_id)))).toEqual(
      sorted(
        expectedIds(
          on('intake').filter((e) => known.has(e.workOrderId ?? '')),
          'intake',
        ),
      ),
    );
    expect((await db.pool.query('SELECT id FROM intake.requests')).rowCount).toBe(knownWorkOrders.length);
    const breaches = await db.pool.query<{ level: number }>("SELECT (b->>'level')::int AS level FROM intake.requests, jsonb_array_elements(breaches) b");
    expect(breaches.rows.map((r) => r.level)).not.toContain(DUPLICATE_LEVEL);

    // intake's incidents: the snapshot of each incident an applied event was about, none with the
    // duplicate's content; no work order was opened for them (incident.updated opens none).
    const incidentIds = await db.pool.query<{ id: string; call_count: number }>('SELECT id, call_count FROM intake.incidents');
    expect(sorted(new Set(incidentIds.rows.map((r) => r.id)))).toEqual(
      sorted(expectedIds(corpus.get(Topics.incidentsEvents)!, 'intake', (e) => e.workOrderId)),
    );
    expect(incidentIds.rows.map((r) => r.call_count)).not.toContain(DUPLICATE_LEVEL);

    // grid-routing: one decision per applied request, none for the others.
    const routed = await db.pool.query<{ request_id: string; event_id: string }>('SELECT request_id, event_id FROM routing.routed_requests');
    expect(sorted(new Set(routed.rows.map((r) => r.request_id)))).toEqual(sorted(expectedIds(on('grid-routing'), 'grid-routing', (e) => e.workOrderId)));

    // sla-timer: work orders of the applied events; timers for the dispatched ones only.
    expect(sorted(await eventIds('sla_timer', 'work_orders', 'work_order_id'))).toEqual(
      sorted(expectedIds(on('sla-timer'), 'sla-timer', (e) => e.workOrderId)),
    );
    const dispatched = expectedIds(corpus.get(Topics.dispatchAssigned)!, 'sla-timer', (e) => e.workOrderId);
    expect(sorted(await eventIds('sla_timer', 'timers', 'DISTINCT work_order_id'))).toEqual(sorted(dispatched));

    // notification: the dispatched work orders' contacts; deliveries only for applied events.
    expect(sorted(await eventIds('notification', 'work_order_contacts', 'work_order_id'))).toEqual(
      sorted(expectedIds(corpus.get(Topics.dispatchAssigned)!, 'notification', (e) => e.workOrderId)),
    );
    const delivered = await eventIds('notification', 'deliveries');
    const applied = expectedIds(on('notification'), 'notification');
    expect([...delivered].filter((id) => !applied.has(id))).toEqual([]);

    // No id of a malformed record reached any table that keys on event ids.
    const everywhere = new Set([
      ...(await eventIds('intake', 'inbox')),
      ...(await eventIds('intake', 'timeline')),
      ...(await eventIds('routing', 'inbox')),
      ...routed.rows.map((r) => r.event_id),
      ...(await eventIds('sla_timer', 'inbox')),
      ...(await eventIds('notification', 'inbox')),
      ...delivered,
    ]);
    expect(poisonIds.filter((id) => everywhere.has(id))).toEqual([]);
  });
});
