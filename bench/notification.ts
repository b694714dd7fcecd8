import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInProcessBus, createKafkaBus, waitForIdle, type Bus } from '@griddispatch/bus';
import { EventTypeName, EventTypes, buildEvent, serializeEvent, type CloudEvent, type DispatchAssignedV1 } from '@griddispatch/contracts';
import { buildHttpHost } from '@griddispatch/http';
import { buildNotification, loadConfig } from '@griddispatch/notification';
import { createLogger } from '@griddispatch/observability';
import { freshDatabase, hostPort, portOpen } from '@griddispatch/testkit';

// Notification delivery: `pnpm bench:notification` (≤ 2 min).
// - flood: N sla.breaches records published in batches as fast as the bus takes them; deliveries
//   per second to one local webhook receiver (signed Standard Webhooks POSTs), the whole path:
//   consumer (inbox + subscription match + delivery row, one transaction) → worker (claim,
//   sign, POST, record the attempt).
// - paced: records published one by one at a moderate rate; p50/p99 from the publish call to
//   the webhook arriving at the receiver (a quiet system's latency).
// - worker: the delivery worker alone, draining N pending webhook deliveries inserted in bulk
//   (claim, sign, POST, batched result writes): the sending half, without the consumers.
// - yardstick: a raw HTTP POST loop (node:http keep-alive, same body, same concurrency as the worker) to the
//   same receiver: the ceiling the HTTP part alone allows on this machine.
// Kafka when a broker answers (KAFKA_BROKERS or 127.0.0.1:9092), else (or with
// BENCH_NOTIFY_BUS=in-process) the in-process bus.

const FLOOD = Number(process.env.BENCH_NOTIFY_FLOOD ?? 3_000);
const PACED = Number(process.env.BENCH_NOTIFY_PACED ?? 400);
const PACED_RATE = Number(process.env.BENCH_NOTIFY_PACED_RATE ?? 50); // records per second
const WORK_ORDERS = 200;
const BATCH = 100;
const CONCURRENCY = 32;
const DEADLINE_MS = 110_000;
const started = performance.now();

const logger = createLogger({ service: 'bench-notification', level: process.env.LOG_LEVEL ?? 'warn' });
const runId = randomBytes(3).toString('hex');

function checkDeadline(what: string): void {
  if (performance.now() - started > DEADLINE_MS) throw new Error(`bench exceeded its ${DEADLINE_MS / 1000} s budget during ${what}`);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/** A receiver that answers 204 at once and notes when each webhook-id arrived. */
async function startReceiver(): Promise<{ url: string; arrivals: Map<string, number>; count(): number; server: Server }> {
  const arrivals = new Map<string, number>();
  let count = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count += 1;
      const id = req.headers['webhook-id'];
      if (typeof id === 'string' && !arrivals.has(id)) arrivals.set(id, performance.now());
      res.writeHead(204);
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, arrivals, count: () => count, server };
}

const rawAgent = new Agent({ keepAlive: true, maxSockets: 64 });

/** The yardstick's POST: node:http on a keep-alive agent, as the webhook channel sends. */
function rawPost(url: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: rawAgent, headers: { 'content-type': 'application/cloudevents+json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve());
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    checkDeadline(what);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function assigned(i: number): CloudEvent {
  const id = `bench-${runId}-${i}`;
  // Contacts without phones and grids without a robot: the breaches below reach the webhook only.
  const data: DispatchAssignedV1 = {
    workOrderId: id,
    request: {
      id,
      source: '95598',
      externalId: id,
      category: 'fault_repair',
      receivedAt: new Date().toISOString(),
      urgency: 'urgent',
      customer: { classes: ['aquaculture'] },
      location: { districtCode: `HH-TQ-${String(i % 157).padStart(3, '0')}` },
    },
    grid: { id: `HH-G0${(i % 7) + 1}`, name: `后湖${(i % 7) + 1}号网格`, kind: 'district', areaType: 'rural', areaId: 'HH' },
    resolvedBy: 'district',
    districtCode: `HH-TQ-${String(i % 157).padStart(3, '0')}`,
    assignees: [{ staffId: `S-${i % 7}`, name: '台区经理', role: 'manager' }],
    contacts: [
      { staffId: `S-${i % 7}`, name: '台区经理', role: 'manager' },
      { staffId: 'S-sup', name: '监督员', role: 'supervisor' },
    ],
    customerClasses: ['aquaculture'],
    homeVisit: false,
    incidentId: null,
    urgency: 'urgent',
    sla: {
      policy: 'aquaculture-circle',
      deadlines: { arrive: new Date(Date.now() + 1_800_000).toISOString() },
      warnBeforeMs: 300_000,
      escalation: [],
      calendar: null,
    },
  };
  return buildEvent({ type: EventTypeName.dispatchAssigned, source: 'grid-routing', subject: id, data });
}

let breachSeq = 0;
function breach(): CloudEvent {
  const workOrderId = `bench-${runId}-${breachSeq % WORK_ORDERS}`;
  const level = Math.floor(breachSeq / WORK_ORDERS) + 1;
  breachSeq += 1;
  return buildEvent({
    type: EventTypeName.slaBreached,
    source: 'sla-timer',
    subject: workOrderId,
    data: {
      workOrderId,
      gridId: 'HH-G01',
      policy: 'aquaculture-circle',
      stage: 'arrive',
      deadline: new Date().toISOString(),
      latenessMs: 0,
      level,
      notify: ['supervisor'],
      late: false,
    },
  });
}

async function publish(bus: Bus, events: CloudEvent[]): Promise<void> {
  if (events.length === 0) return;
  await bus.publish(
    EventTypes[events[0]!.type].topic,
    events.map((e) => ({ key: e.subject, value: serializeEvent(e) })),
  );
}

async function main(): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const forcedInProcess = process.env.BENCH_NOTIFY_BUS === 'in-process';
  const kafka = !forcedInProcess && (await portOpen(...hostPort(brokers[0]!)));
  const prefix = `bench.${runId}.`;
  const bus = kafka ? createKafkaBus({ brokers, prefix, clientId: 'bench-notification', logger }) : createInProcessBus({ prefix, logger });
  const db = await freshDatabase('bench_notification');
  const receiver = await startReceiver();
  console.log(
    `bus: ${kafka ? `Kafka (${brokers.join(',')})` : `in-process (${forcedInProcess ? 'BENCH_NOTIFY_BUS=in-process' : 'no Kafka broker answered'})`}; PostgreSQL: ${new URL(db.url).host}`,
  );

  // One subscription takes the whole flood here: the per-subscription cap (issue 17.5) is lifted
  // so the worker's throughput is what is measured; the receiver is on loopback.
  const config = loadConfig({
    NOTIFY_WEBHOOK_ALLOW_PRIVATE: '1',
    NOTIFY_RATE_WEBHOOK: 'unlimited',
    NOTIFY_CONCURRENCY: String(CONCURRENCY),
    NOTIFY_WEBHOOK_CONCURRENCY: String(CONCURRENCY),
    NOTIFY_WEBHOOK_PER_SUBSCRIPTION: String(CONCURRENCY),
    NOTIFY_POLL_MS: '1000',
  });
  const service = await buildNotification({ pool: db.pool, bus, logger, config, groupId: `bench-notification-${runId}` });
  const host = await buildHttpHost({
    pool: db.pool,
    logger,
    apiKeys: `bench:bench-secret-0123456789-${runId}:subscriptions:write`,
    services: [service],
    rateLimit: false,
  });
  try {
    await service.start();
    const created = await host.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: { authorization: `Bearer bench-secret-0123456789-${runId}` },
      payload: { url: receiver.url, events: ['sla.breached'] },
    });
    if (created.statusCode !== 201) throw new Error(`subscription not created: ${created.statusCode} ${created.body}`);

    // The work orders the breaches belong to (their dispatch.assigned carries the contacts).
    const seed = Array.from({ length: WORK_ORDERS }, (_, i) => assigned(i));
    for (let i = 0; i < seed.length; i += BATCH) await publish(bus, seed.slice(i, i + BATCH));
    await waitForIdle(bus, { timeoutMs: 60_000 });

    // Warm-up: JIT, connection pools, keep-alive sockets.
    const warm = Array.from({ length: 200 }, breach);
    for (let i = 0; i < warm.length; i += BATCH) await publish(bus, warm.slice(i, i + BATCH));
    await until(() => receiver.count() >= warm.length, 60_000, 'warm-up deliveries');

    // Flood.
    const sentAt = new Map<string, number>();
    const flood = Array.from({ length: FLOOD }, breach);
    const base = receiver.count();
    const t0 = performance.now();
    for (let i = 0; i < flood.length; i += BATCH) {
      const batch = flood.slice(i, i + BATCH);
      const at = performance.now();
      for (const e of batch) sentAt.set(e.id, at);
      await publish(bus, batch);
      checkDeadline('flood publish');
    }
    // When the consumers had recorded every flood delivery (tells which half is the bottleneck).
    let recordedAt = 0;
    const recordedTarget = warm.length + FLOOD;
    const probe = setInterval(() => {
      void db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM notification.deliveries').then(({ rows }) => {
        if (!recordedAt && (rows[0]?.n ?? 0) >= recordedTarget) recordedAt = performance.now();
      });
    }, 20);
    await until(() => receiver.count() - base >= FLOOD, 90_000, 'flood deliveries');
    const floodSeconds = (performance.now() - t0) / 1000;
    clearInterval(probe);
    const recordedSeconds = ((recordedAt || performance.now()) - t0) / 1000;
    const floodLat = flood.map((e) => receiver.arrivals.get(e.id)! - sentAt.get(e.id)!).sort((a, b) => a - b);

    // Paced.
    const paced: CloudEvent[] = [];
    const tp = performance.now();
    for (let i = 0; i < PACED; i++) {
      const due = tp + (i * 1000) / PACED_RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const e = breach();
      paced.push(e);
      sentAt.set(e.id, performance.now());
      await publish(bus, [e]);
      checkDeadline('paced publish');
    }
    await until(() => paced.every((e) => receiver.arrivals.has(e.id)), 60_000, 'paced deliveries');
    const pacedLat = paced.map((e) => receiver.arrivals.get(e.id)! - sentAt.get(e.id)!).sort((a, b) => a - b);

    // Worker alone: bulk-insert pending webhook deliveries, wake the worker, time the drain.
    const subscriptionId = created.json<{ id: string }>().id;
    const drainBody = serializeEvent(flood[0]!);
    const drainBase = receiver.count();
    await db.pool.query(
      `INSERT INTO notification.deliveries (id, event_id, event_type, work_order_id, channel, recipient, subscription_id, payload, status, attempts, next_attempt_at, created_at, updated_at)
       SELECT gen_random_uuid(), e.id, 'cn.griddispatch.sla.breached.v1', 'bench', 'webhook', $1::text, $1::uuid,
              jsonb_build_object('channel', 'webhook', 'eventId', e.id, 'body', $2::text), 'pending', 0, now(), now(), now()
         FROM (SELECT 'drain-' || g AS id FROM generate_series(1, $3::int) g) e`,
      [subscriptionId, drainBody, FLOOD],
    );
    const td = performance.now();
    await db.pool.query("SELECT pg_notify('notification_deliveries', '')");
    await until(() => receiver.count() - drainBase >= FLOOD, 60_000, 'worker drain');
    const drainSeconds = (performance.now() - td) / 1000;
    for (let i = 0; i < 500 && (await service.backlog()) > 0; i++) await new Promise((r) => setTimeout(r, 10));
    const { rows } = await db.pool.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM notification.deliveries GROUP BY status');
    const statuses = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));

    // Yardstick: raw POSTs of the same body, same concurrency.
    const body = serializeEvent(flood[0]!);
    const rawBase = receiver.count();
    const tr = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < FLOOD) {
          next += 1;
          await rawPost(receiver.url, body);
        }
      }),
    );
    const rawSeconds = (performance.now() - tr) / 1000;
    if (receiver.count() - rawBase !== FLOOD) throw new Error('yardstick lost requests');

    const result = {
      benchmark: 'notification: sla.breaches record → signed webhook at a local receiver',
      at: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      bus: kafka ? 'kafka' : 'in-process',
      brokers: kafka ? brokers : null,
      parameters: { flood: FLOOD, paced: PACED, pacedRatePerSecond: PACED_RATE, batch: BATCH, workerConcurrency: CONCURRENCY, workOrders: WORK_ORDERS },
      flood: {
        deliveries: FLOOD,
        seconds: round(floodSeconds),
        deliveriesPerSecond: round(FLOOD / floodSeconds, 0),
        recordedPerSecond: round(FLOOD / recordedSeconds, 0),
        p50Ms: round(percentile(floodLat, 50)),
        p99Ms: round(percentile(floodLat, 99)),
        note: 'latency includes queueing behind the whole flood',
      },
      paced: {
        deliveries: PACED,
        p50Ms: round(percentile(pacedLat, 50)),
        p99Ms: round(percentile(pacedLat, 99)),
        maxMs: round(pacedLat[pacedLat.length - 1] ?? NaN),
      },
      worker: {
        what: 'delivery worker alone draining pending webhook deliveries (claim, sign, POST, record)',
        deliveries: FLOOD,
        seconds: round(drainSeconds),
        deliveriesPerSecond: round(FLOOD / drainSeconds, 0),
      },
      yardstick: {
        what: `raw node:http POST loop (keep-alive), ${CONCURRENCY} concurrent, same receiver and body`,
        requests: FLOOD,
        seconds: round(rawSeconds),
        requestsPerSecond: round(FLOOD / rawSeconds, 0),
      },
      ratioToRawPost: round(FLOOD / floodSeconds / (FLOOD / rawSeconds), 3),
      workerRatioToRawPost: round(FLOOD / drainSeconds / (FLOOD / rawSeconds), 3),
      loadAverage: loadavg().map((l) => round(l)),
      deliveryStatuses: statuses,
      totalSeconds: round((performance.now() - started) / 1000, 1),
    };
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
    writeFileSync(new URL('./results/notification.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
    console.log(
      [
        `flood:  ${result.flood.deliveriesPerSecond} deliveries/s (${FLOOD} in ${result.flood.seconds} s; consumers recorded them at ${result.flood.recordedPerSecond}/s), p50 ${result.flood.p50Ms} ms, p99 ${result.flood.p99Ms} ms (queueing included)`,
        `paced:  ${PACED} at ${PACED_RATE}/s: publish → webhook received p50 ${result.paced.p50Ms} ms, p99 ${result.paced.p99Ms} ms, max ${result.paced.maxMs} ms`,
        `worker: ${result.worker.deliveriesPerSecond} deliveries/s draining pending rows alone`,
        `raw:    ${result.yardstick.requestsPerSecond} POST/s → end to end ${(result.ratioToRawPost * 100).toFixed(1)} %, worker alone ${(result.workerRatioToRawPost * 100).toFixed(1)} % of a raw POST loop (load average ${result.loadAverage.join(' ')})`,
        `statuses: ${JSON.stringify(statuses)}; wrote bench/results/notification.json`,
      ].join('\n'),
    );
  } finally {
    await host.close();
    await service.stop();
    await bus.close();
    receiver.server.closeAllConnections();
    receiver.server.close();
    await db.drop();
  }
}

await main();
