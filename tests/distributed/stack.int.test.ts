import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import { EXTERNAL_SOURCE_TOPICS, externalTopic } from '@griddispatch/contracts';
import { generateSampleCounty } from '@griddispatch/grid';
import { freshDatabase, testTopicPrefix, type FreshDatabase } from '@griddispatch/testkit';
import { call, eventually, localTime } from './harness/api.ts';
import { checkRecords, traceIdOf, type CheckedRecord } from './harness/cloudevents.ts';
import { startOtlpCollector, type OtlpCollector } from './harness/otlp-collector.ts';
import { spawnService, stopAll, waitReady, type ServiceName, type ServiceProcess } from './harness/processes.ts';
import { deleteRun, kafkaClient, readAllRecords, topicsWithPrefix } from './harness/topics.ts';
import { startWebhookReceiver, type WebhookReceiver } from './harness/webhook-receiver.ts';

// The distributed stack end to end: each service a real process (`node dist/<s>.js`, the compiled
// build, as `pnpm stack:up` runs it), two replicas of grid-routing and of sla-timer, the real Kafka broker
// and a fresh PostgreSQL database. Requests come in the 95598 and Open311 shapes, the field app
// reports progress, a fault nobody acknowledges breaches its seconds-long window, and the breach
// reaches an integrator's webhook. Then every record on every topic of the run is read back and
// checked as a CloudEvent, and every request is accounted for exactly once. The services export
// their spans (OTLP http/json) to a local collector: one trace runs through all four services.

const key = () => randomBytes(16).toString('hex');
const KEYS = { c95598: key(), civic: key(), field: key(), integrator: key(), ops: key() };
const API_KEYS = [
  `sgcc-95598:${KEYS.c95598}:requests:write+requests:read`,
  `civic-platform:${KEYS.civic}:requests:write`,
  `field-app:${KEYS.field}:workorders:write`,
  `integrator:${KEYS.integrator}:subscriptions:write`,
  `ops:${KEYS.ops}:admin`,
].join(',');

// Fault repairs must be acknowledged within 6 s (nobody does: each breaches once, at level 1);
// everything else within 10 min (the field app acknowledges in time: no breach).
const POLICY = {
  timeZone: 'Asia/Shanghai',
  rules: [
    { name: 'e2e-fault', match: { category: ['fault_repair'] }, windows: { ack: '6s' }, escalation: [{ after: '0s', notify: ['manager', 'repair_crew'] }] },
    { name: 'e2e-default', match: {}, windows: { ack: '10m' } },
  ],
};

const TOPOLOGY: [ServiceName, number][] = [
  ['notification', 1],
  ['sla-timer', 2],
  ['grid-routing', 2],
  ['intake', 1],
];

let db: FreshDatabase;
let prefix: string;
let logDir: string;
let kafka: Kafka;
let receiver: WebhookReceiver;
let collector: OtlpCollector;
const procs: ServiceProcess[] = [];
let failed = false;
const urlOf = (service: ServiceName) => procs.find((p) => p.service === service)!.url;

beforeAll(async () => {
  const brokers = process.env.KAFKA_BROKERS?.split(',');
  if (!brokers) throw new Error('KAFKA_BROKERS is not set (vitest global setup: packages/testkit)');
  kafka = kafkaClient(brokers, 'e2e-reader');
  db = await freshDatabase('e2e_distributed');
  prefix = testTopicPrefix();
  logDir = await mkdtemp(join(tmpdir(), 'gd-e2e-'));
  const policyPath = join(logDir, 'sla-policy.json');
  await writeFile(policyPath, JSON.stringify(POLICY));
  receiver = await startWebhookReceiver();
  collector = await startOtlpCollector();
  // The test runner's own variables (VITEST_*, NODE_ENV=test) stay out: the processes run as
  // `pnpm stack:up` runs them.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'NODE_ENV'));
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    DATABASE_URL: db.url,
    KAFKA_BROKERS: brokers.join(','),
    GD_TOPIC_PREFIX: prefix,
    GD_API_KEYS: API_KEYS,
    GD_KEY_PEPPER: randomBytes(32).toString('base64url'),
    GD_SLA_POLICY: policyPath,
    GD_SAMPLE_DATA: '1',
    LOG_LEVEL: 'info',
    // The webhook receiver listens on loopback, which production refuses (issue 17.1).
    NOTIFY_WEBHOOK_ALLOW_PRIVATE: '1',
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    // Spans leave each process within 200 ms instead of 5 s.
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
  for (const [service, replicas] of TOPOLOGY) {
    for (let n = 1; n <= replicas; n += 1) procs.push(await spawnService(service, n, env, logDir));
  }
  await waitReady(procs, 150_000, (line) => console.info(`e2e: ${line}`));
}, 180_000);

afterAll(async () => {
  await stopAll(procs);
  await receiver?.close();
  await collector?.close();
  await db?.drop();
  if (kafka && prefix) await deleteRun(kafka, prefix).catch(() => undefined);
  if (failed) console.error(`e2e: service logs kept in ${logDir}`);
  else if (logDir) await rm(logDir, { recursive: true, force: true });
}, 60_000);

it('dispatches 95598 and Open311 requests across replicas, breaches once, signs the webhook; every record is a CloudEvent and every request is accounted for', async () => {
  onTestFailed(() => {
    failed = true;
  });
  const run = randomBytes(3).toString('hex');
  const county = generateSampleCounty({ seed: 1, scale: 1 });
  const district = (i: number) => county.districts[i]!;
  const fishFarm = county.customers.find((c) => c.classes.includes('aquaculture'))!;

  // An integrator subscribes to breaches (notification's own port in distributed mode).
  const sub = await call(`${urlOf('notification')}/v1/subscriptions`, { key: KEYS.integrator, json: { url: receiver.url, events: ['sla.breached'] } });
  expect(sub.status).toBe(201);
  receiver.setSecret((sub.body as { secret: string }).secret);

  // 95598 (the customer-service system's own fields) and Open311 (form-encoded) requests.
  const intake = urlOf('intake');
  const post95598 = async (body: Record<string, unknown>) => {
    const res = await call(`${intake}/v1/requests/95598`, { key: KEYS.c95598, json: body });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body as { id: string; duplicate: boolean };
  };
  const postOpen311 = async (form: Record<string, string>) => {
    const res = await call(`${intake}/open311/v2/requests.json`, { key: KEYS.civic, form: { api_key: KEYS.civic, ...form } });
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    return (res.body as { service_request_id: string }[])[0]!.service_request_id;
  };
  const slsj = localTime(new Date(), 'Asia/Shanghai'); // 受理时间, wall clock in 95598's zone
  const f1Body = { slsj, gdbh: `E2E${run}01`, ywlb: '01', jjcd: '2', tqbh: district(4).code, gzdz: '后湖村三组', slnr: '全组停电' };
  const f1 = await post95598(f1Body);
  const f2 = await post95598({
    slsj,
    gdbh: `E2E${run}02`,
    ywlb: '01',
    khbh: fishFarm.accountNo,
    khmc: '张三',
    lxdh: '13812345678',
    khfl: ['03'],
    slnr: '增氧机停电',
  });
  const s1 = await post95598({ slsj, gdbh: `E2E${run}03`, ywlb: '04', tqbh: district(30).code, slnr: '咨询电价' });
  const retry = await post95598(f1Body); // the 95598 system retries the same body: same id, no new event
  expect(retry).toEqual({ id: f1.id, status: expect.any(String), duplicate: true });
  const f3 = await postOpen311({
    service_code: 'fault_repair',
    'attribute[district_code]': district(40).code,
    'attribute[external_id]': `e2e-${run}-1`,
    description: '线路跳闸',
  });
  const s2 = await postOpen311({
    service_code: 'consultation',
    lat: String(district(60).lat),
    long: String(district(60).lon),
    'attribute[external_id]': `e2e-${run}-2`,
    description: '咨询',
  });
  const u1 = await postOpen311({ service_code: 'consultation', lat: '20', long: '100', 'attribute[external_id]': `e2e-${run}-3`, description: '不在辖区' });
  const faults = [f1.id, f2.id, f3];
  const others = [s1.id, s2];
  const all = [...faults, ...others, u1];

  // The field app reports progress once routing assigned the work order.
  const view = async (id: string) =>
    (await call(`${intake}/v1/requests/${id}`, { key: KEYS.ops })).body as { status: string; sla?: { breaches: unknown[] } | null };
  const progress: Record<string, string[]> = { [s1.id]: ['acknowledged', 'en_route', 'arrived', 'resolved', 'closed'], [s2]: ['acknowledged', 'en_route'] };
  for (const [id, types] of Object.entries(progress)) {
    await eventually(`${id} assigned`, 60_000, async () => ((await view(id)).status === 'assigned' ? true : undefined));
    for (const type of types) {
      const res = await call(`${intake}/v1/work-orders/${id}/events`, { key: KEYS.field, json: { type } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  }

  // The three unacknowledged faults breach; the integrator gets each breach, signed.
  await receiver.waitForVerified(faults.length, 60_000);
  // Settle: the read model saw everything and every outbox is empty; then give a duplicate
  // (a second replica routing or firing the same thing) time to show up.
  const settled = async () => {
    for (const id of faults) if (((await view(id)).sla?.breaches.length ?? 0) < 1) return undefined;
    if ((await view(s1.id)).status !== 'closed' || (await view(s2)).status !== 'en_route' || (await view(u1)).status !== 'unroutable') return undefined;
    const { rows } = await db.pool.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM intake.outbox) + (SELECT count(*) FROM routing.outbox) + (SELECT count(*) FROM sla_timer.outbox)
            + (SELECT count(*) FROM notification.outbox) AS n`,
    );
    return rows[0]!.n === '0' ? true : undefined;
  };
  await eventually('the pipeline to settle', 30_000, settled);
  await new Promise((r) => setTimeout(r, 3_000));
  await eventually('the pipeline to settle', 10_000, settled);

  // Every record on every topic of this run, parsed with the cloudevents SDK.
  const topics = await topicsWithPrefix(kafka, prefix);
  const { checked, problems } = checkRecords(await readAllRecords(kafka, topics), prefix);
  expect(problems).toEqual([]);
  const on = (topic: string) => checked.filter((r) => r.topic === topic);
  const ids = (records: CheckedRecord[]) =>
    records.map((r) => (r.event.data as { id?: string; workOrderId?: string }).workOrderId ?? (r.event.data as { id: string }).id).sort();
  for (const dlq of topics.filter((t) => t.endsWith('.dlq'))) expect(on(dlq.slice(prefix.length)), dlq).toEqual([]);

  // Every request exactly once on requests.received, and exactly once routed or unroutable.
  expect(ids(on('requests.received'))).toEqual([...all].sort());
  expect(ids(on('dispatch.assigned'))).toEqual([...faults, ...others].sort());
  expect(ids(on('dispatch.unroutable'))).toEqual([u1]);
  for (const r of on('requests.received')) expect(r.key).toBe(r.event.subject);
  for (const r of on('dispatch.assigned')) expect(r.key).toBe((r.event.data as { grid: { id: string } }).grid.id);

  // Each fault breached exactly once (two sla-timer replicas); nothing else did, no warnings.
  const breaches = on('sla.breaches');
  expect(ids(breaches)).toEqual([...faults].sort());
  for (const b of breaches) expect(b.event.data).toMatchObject({ stage: 'ack', level: 1, policy: 'e2e-fault' });
  expect(on('sla.warnings')).toEqual([]);

  // Field-app events, once each, in order per work order.
  const updates = on('workorders.events');
  for (const [id, types] of Object.entries(progress)) {
    expect(
      updates.filter((u) => u.event.subject === id).map((u) => (u.event.data as { type: string }).type),
      id,
    ).toEqual(types);
  }
  expect(updates).toHaveLength(Object.values(progress).flat().length);

  // The webhook got each breach once, signed (Standard Webhooks), the body the CloudEvent itself.
  expect(receiver.deliveries.filter((d) => !d.verified)).toEqual([]);
  expect(receiver.deliveries.map((d) => d.webhookId).sort()).toEqual(breaches.map((b) => b.event.id).sort());
  for (const d of receiver.deliveries)
    expect(JSON.parse(d.body)).toMatchObject({ specversion: '1.0', id: d.webhookId, type: 'cn.griddispatch.sla.breached.v1' });

  // Outside consumers read ext.<topic> only: each integrator-facing event once, with its key and
  // the ids to follow a work order, and none of the personal data the internal topics carry.
  // notification publishes them after consuming: wait until it has caught up with every source event.
  const extTopics = EXTERNAL_SOURCE_TOPICS.map((t) => `${prefix}${externalTopic(t)}`);
  const expectedExt = EXTERNAL_SOURCE_TOPICS.reduce((n, t) => n + on(t).length, 0);
  const ext = await eventually('the ext.* feed to catch up', 30_000, async () => {
    // A topic is made by its first record: one nothing was published on (no warnings here) does not exist.
    const existing = new Set(await topicsWithPrefix(kafka, prefix));
    const read = checkRecords(
      await readAllRecords(
        kafka,
        extTopics.filter((t) => existing.has(t)),
      ),
      prefix,
    );
    return read.checked.length >= expectedExt ? read : undefined;
  });
  expect(ext.problems).toEqual([]);
  checked.push(...ext.checked.filter((r) => !checked.some((c) => c.topic === r.topic && c.partition === r.partition && c.offset === r.offset)));
  const personal = new Set<string>(['张三', '13812345678', fishFarm.accountNo, '后湖村三组']);
  for (const r of [...on('dispatch.assigned'), ...on('dispatch.unroutable')]) {
    const d = r.event.data as {
      request: { customer?: { name?: string; phone?: string; accountNo?: string }; location: { address?: string } };
      contacts?: { name: string; phone?: string }[];
      assignees?: { name: string }[];
    };
    const c = d.request.customer;
    for (const v of [
      c?.name,
      c?.phone,
      c?.accountNo,
      d.request.location.address,
      ...(d.contacts ?? []).flatMap((p) => [p.name, p.phone]),
      ...(d.assignees ?? []).map((p) => p.name),
    ]) {
      if (v && [...v].length >= 2) personal.add(v);
    }
  }
  expect(personal.size).toBeGreaterThan(4); // the flow did carry personal data internally
  for (const source of EXTERNAL_SOURCE_TOPICS) {
    const external = on(externalTopic(source));
    expect(external.map((r) => r.event.id).sort(), source).toEqual(
      on(source)
        .map((r) => r.event.id)
        .sort(),
    );
    for (const r of external) {
      const internal = on(source).find((i) => i.event.id === r.event.id)!;
      expect(r.key).toBe(internal.key);
      expect(r.event.subject).toBe(internal.event.subject);
      const text = JSON.stringify(r.event);
      for (const secret of personal) expect(text, `${secret} on ext.${source}`).not.toContain(secret);
    }
  }
  const extAssigned = on('ext.dispatch.assigned').map(
    (r) => r.event.data as { workOrderId: string; request: { id: string; externalId: string }; grid: { id: string } },
  );
  expect(extAssigned.map((d) => d.workOrderId).sort()).toEqual([...faults, ...others].sort());
  for (const d of extAssigned) expect(d.request.id).toBe(d.workOrderId);
  expect(extAssigned.map((d) => d.request.externalId)).toContain(`E2E${run}02`);

  // One trace follows each request: intake's HTTP span → routing → the timer's breach.
  const traceOf = (topic: string, id: string) => {
    const record = on(topic).find((r) => r.event.subject === id);
    return { trace: traceIdOf(record?.headers.traceparent), traceparent: record?.headers.traceparent };
  };
  const traces = new Set<string | undefined>();
  for (const id of all) {
    const received = traceOf('requests.received', id);
    const routed = traceOf(id === u1 ? 'dispatch.unroutable' : 'dispatch.assigned', id);
    expect(received.trace, id).toMatch(/^[0-9a-f]{32}$/);
    expect(routed.trace, id).toBe(received.trace);
    expect(routed.traceparent, `${id}: routing continues the trace in its own span`).not.toBe(received.traceparent);
    if (faults.includes(id)) expect(traceOf('sla.breaches', id).trace, id).toBe(received.trace);
    traces.add(received.trace);
  }
  expect(traces.size).toBe(all.length);

  // ... and on to the integrator: each breach's webhook continues its fault's trace, and the
  // collector holds spans of all four services in that trace (intake's HTTP span, routing,
  // the timer, notification's consumer and its send).
  for (const id of faults) {
    const breach = breaches.find((b) => b.event.subject === id)!;
    const delivery = receiver.deliveries.find((d) => d.webhookId === breach.event.id)!;
    const trace = traceOf('requests.received', id).trace!;
    expect(traceIdOf(delivery.traceparent), `${id}: the webhook carries the request's trace`).toBe(trace);
    await eventually(`${id}: spans of all four services`, 15_000, async () => {
      const services = new Set(collector.spans.filter((span) => span.traceId === trace).map((span) => span.service));
      return ['intake', 'grid-routing', 'sla-timer', 'notification'].every((s) => services.has(s)) ? true : undefined;
    });
    const send = collector.spans.find((span) => span.traceId === trace && span.name === 'notification.send webhook');
    expect(send, `${id}: notification's send span`).toBeDefined();
    expect(delivery.traceparent?.split('-')[2], `${id}: the receiver's parent is the send span`).toBe(send!.spanId);
  }
}, 150_000);
