import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { buildStack } from '@griddispatch/cli/stack';
import { createInProcessBus, createKafkaBus, type Bus } from '@griddispatch/bus';
import { generateSampleCounty } from '@griddispatch/grid';
import { parseHttpEnv } from '@griddispatch/http';
import { loadConfig } from '@griddispatch/notification';
import { createLogger } from '@griddispatch/observability';
import { freshDatabase, hostPort, portOpen } from '@griddispatch/testkit';
import { callbackFigures, mergedCalls, pickCallers, postCalls, type CallbackFigures } from './customers-callers.ts';
import { SMS_PATHS, startVendor, type SmsPath, type SmsReceiver } from './customers-sms.ts';

// Telling the customers of a station-wide outage (issue 14), part of `pnpm bench:notification`:
// the embedded stack (grid-routing, notification, intake; Kafka when a broker answers) with the
// 后湖 sample; every one of its 13,700 meters reports power_off, later power_on.
// - outage: customer SMS per second through the whole path (meters → incidents → customers.notices
//   → delivery rows → customer lane → SMS gateway POSTs) to a local gateway answering 200 at once,
//   with NOTIFY_RATE_SMS unlimited (a vendor contract that allows it).
// - restored: from the first incident.restored (its restoredAt) to the last "restored" message
//   queued (delivery row written) and sent (gateway answered).
// - callers: before the power comes back, BENCH_CUSTOMERS_CALLERS (default 1,500) of the affected
//   customers call in (POST /v1/requests, merged into the incidents); on restoration each is asked
//   to confirm (回访): per ask, its incident's restoredAt → intake's callback row → notification's
//   delivery row (queued) → the SMS receiver's answer (sent), p50 and max; and from the station's
//   first incident.restored to the last ask queued and sent.
// - `--sms alibaba|tencent`: the same run through a real vendor adapter (the vendor's SDK, signed
//   requests) against the local stand-in that checks them (customers-sms.ts); results in
//   customers-<vendor>.json. Default `gateway`: the generic gateway, customers.json.
// - yardstick: a raw node:http POST loop (keep-alive, same body, same concurrency as the lane) to the
//   same gateway: the ceiling the HTTP part alone allows here.

const CONCURRENCY = Number(process.env.BENCH_CUSTOMERS_CONCURRENCY ?? 256);
const CALLERS = Number(process.env.BENCH_CUSTOMERS_CALLERS ?? 1_500);
const smsFlag = process.argv.indexOf('--sms');
const SMS: SmsPath = smsFlag >= 0 ? (process.argv[smsFlag + 1] as SmsPath) : 'gateway';
if (!SMS_PATHS.includes(SMS)) throw new Error(`--sms: one of ${SMS_PATHS.join(', ')}`);
const DEADLINE_MS = 300_000;
const started = performance.now();
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const logger = createLogger({ service: 'bench-customers', level: process.env.LOG_LEVEL ?? 'warn' });
const KEY = randomBytes(16).toString('hex');

/** The SMS gateway: 200 at once; arrival times per message kind. */
async function startGateway(): Promise<{ url: string; arrivals: Map<string, number[]>; server: Server }> {
  const arrivals = new Map<string, number[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const kind = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { kind: string | null }).kind ?? 'staff';
      const list = arrivals.get(kind) ?? [];
      list.push(performance.now());
      arrivals.set(kind, list);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/sms`, arrivals, server };
}

/** What has arrived so far, printed while a wait is long (a stuck stage shows where it stopped). */
let progress = (): string => '';

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  let told = performance.now();
  while (!(await check())) {
    if (performance.now() - started > DEADLINE_MS) throw new Error(`bench exceeded its ${DEADLINE_MS / 1000} s budget waiting for ${what} (${progress()})`);
    if (performance.now() - told > 10_000) {
      told = performance.now();
      console.error(`waiting for ${what}: ${progress()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The yardstick: `n` POSTs of one gateway body, `CONCURRENCY` at once, keep-alive. */
async function rawPosts(url: string, n: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const body = JSON.stringify({
    to: '+8613800138000',
    kind: 'yardstick',
    params: { area: '后湖1号台区', account: '1234', time: '14:32' },
    text: '尊敬的客户：后湖1号台区（户号尾号1234）已于14:32恢复供电，感谢您的理解。如仍未来电，请拨打95598。',
  });
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        next += 1;
        await post();
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return seconds;
}

async function main(): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const kafka = process.env.BENCH_NOTIFY_BUS !== 'in-process' && (await portOpen(...hostPort(brokers[0]!)));
  const prefix = `bench.customers.${randomBytes(3).toString('hex')}.`;
  const bus: Bus = kafka ? createKafkaBus({ brokers, prefix, clientId: 'bench-customers', logger }) : createInProcessBus({ prefix, logger });
  const db = await freshDatabase('bench_customers');
  const gateway = await startGateway();
  const vendor: SmsReceiver | null = SMS === 'gateway' ? null : await startVendor(SMS);
  const arrivals = vendor?.arrivals ?? gateway.arrivals;
  const smsEnv = vendor?.env ?? { NOTIFY_SMS_URL: gateway.url };
  const notification = loadConfig({ ...smsEnv, NOTIFY_RATE_SMS: 'unlimited', NOTIFY_CUSTOMER_CONCURRENCY: String(CONCURRENCY) });
  const stack = await buildStack({
    pool: db.pool,
    bus,
    logger,
    http: parseHttpEnv({ GD_API_KEYS: `bench:${KEY}:admin`, GD_RATE_LIMIT_MAX: '0' }),
    sampleData: true,
    notification,
  });
  try {
    const county = generateSampleCounty({ seed: 1 });
    const houhu = county.customers.filter((c) => c.districtCode.startsWith('HH') && c.phone);
    const meters = async (kind: 'power_off' | 'power_on') => {
      const at = new Date().toISOString();
      for (let i = 0; i < houhu.length; i += 1_000) {
        const events = houhu.slice(i, i + 1_000).map((c) => ({ eventId: `${kind}-${c.accountNo}`, kind, meterId: `M-${c.accountNo}`, at }));
        const res = await stack.host.inject({
          method: 'POST',
          url: '/v1/meter-events',
          headers: { authorization: `Bearer ${KEY}` },
          payload: { source: 'bench-hes', events },
        });
        if (res.statusCode !== 202) throw new Error(`meter events: ${res.statusCode} ${res.body}`);
      }
    };
    const count = (kind: string) => arrivals.get(kind)?.length ?? 0;
    progress = () => [...arrivals].map(([kind, list]) => `${kind} ${list.length}`).join(', ') || 'no SMS yet';

    const t0 = performance.now();
    await meters('power_off');
    await until('every outage SMS', () => count('outage.detected') >= houhu.length);
    const outage = [...arrivals.get('outage.detected')!];
    const outageSeconds = (outage[outage.length - 1]! - outage[0]!) / 1000;

    // ETR moved by hand on each feeder incident: the notices start at grid-routing, no meter in front.
    const feeders: { id: string; kind: string; etr: string; status: string }[] = [];
    for (const code of county.feeders.filter((f) => f.code.startsWith('HH')).map((f) => f.code)) {
      const list = await stack.host.inject({ method: 'GET', url: `/v1/incidents?feederCode=${code}&limit=200`, headers: { authorization: `Bearer ${KEY}` } });
      feeders.push(...(list.json() as { items: typeof feeders }).items.filter((i) => i.kind === 'feeder' && i.status !== 'restored'));
    }
    const tEtr = performance.now();
    for (const f of feeders) {
      const etr = new Date(Date.parse(f.etr) + 2 * 3_600_000).toISOString();
      const res = await stack.host.inject({
        method: 'PUT',
        url: `/v1/incidents/${f.id}/etr`,
        headers: { authorization: `Bearer ${KEY}` },
        payload: { etr, by: 'bench' },
      });
      if (res.statusCode !== 200) throw new Error(`PUT etr: ${res.statusCode} ${res.body}`);
    }
    await until('every ETR SMS', () => count('outage.etr_changed') >= houhu.length);
    const etr = [...arrivals.get('outage.etr_changed')!];
    const etrSeconds = (etr[etr.length - 1]! - etr[0]!) / 1000;

    // The callers, while the power is still off: merged into the open incidents before it returns.
    const tag = `CB${randomBytes(3).toString('hex')}`;
    const callers = pickCallers(houhu, CALLERS);
    const tCalls = performance.now();
    await postCalls(stack.host, KEY, tag, callers);
    const callsSeconds = (performance.now() - tCalls) / 1000;
    await until('every call merged into an incident', async () => (await mergedCalls(db.pool, tag)) >= callers.length);

    await meters('power_on');
    await until('every restored SMS', () => count('outage.restored') >= houhu.length);
    await until('every callback ask', () => count('callback.requested') >= callers.length);
    const { rows } = await db.pool.query<{ first_restored: Date; last_restored: Date; last_queued: Date; last_sent: Date }>(
      `SELECT (SELECT min(restored_at) FROM routing.incidents WHERE restored_at IS NOT NULL) AS first_restored,
              (SELECT max(restored_at) FROM routing.incidents WHERE restored_at IS NOT NULL) AS last_restored,
              max(created_at) AS last_queued, max(delivered_at) AS last_sent
         FROM notification.deliveries WHERE notice_kind = 'outage.restored'`,
    );
    const r = rows[0]!;
    const restored = [...arrivals.get('outage.restored')!];
    const restoredSeconds = (restored[restored.length - 1]! - restored[0]!) / 1000;
    const seconds = (a: Date, b: Date) => round((b.getTime() - a.getTime()) / 1000);
    const callbacks: CallbackFigures = await callbackFigures(db.pool, tag, callers.length, r.first_restored);
    const refused = vendor?.refused() ?? [];
    if (refused.length > 0) throw new Error(`the ${SMS} stand-in refused ${refused.length} messages: ${[...new Set(refused)].join(', ')}`);

    // Anything sent twice would show here (the yardstick's POSTs carry their own kind).
    if (outage.length !== houhu.length || restored.length !== houhu.length || etr.length !== houhu.length)
      throw new Error(`expected ${houhu.length} messages per stage, got ${outage.length} and ${restored.length}`);
    if (count('callback.requested') !== callers.length)
      throw new Error(`expected ${callers.length} callback asks at the receiver, got ${count('callback.requested')}`);
    const rawSeconds = await rawPosts(gateway.url, houhu.length);
    // After the stage checks: the SDK loop's messages go to the same stand-in.
    const sdkSeconds = vendor ? await vendor.sdkLoop(houhu.length, CONCURRENCY) : null;
    const result = {
      at: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      bus: kafka ? 'kafka' : 'in-process',
      accounts: houhu.length,
      sms:
        SMS === 'gateway'
          ? 'generic gateway (a local receiver answering 200 at once)'
          : `${SMS} SDK against the local stand-in that checks request and signature`,
      parameters: { customerConcurrency: CONCURRENCY, smsRate: 'unlimited', callers: callers.length },
      outage: {
        what: 'outage.detected SMS at the gateway, first to last (meters → incidents → customers.notices → customer lane → POST)',
        messages: outage.length,
        seconds: round(outageSeconds),
        messagesPerSecond: round(outage.length / outageSeconds, 0),
        firstPostToLastSmsSeconds: round((outage[outage.length - 1]! - t0) / 1000),
      },
      etrChanged: {
        what: `outage.etr_changed SMS: ETR moved by hand on the ${feeders.length} feeder incidents (PUT /v1/incidents/:id/etr) → customers.notices → customer lane → POST`,
        messages: etr.length,
        seconds: round(etrSeconds),
        messagesPerSecond: round(etr.length / etrSeconds, 0),
        firstPutToLastSmsSeconds: round((etr[etr.length - 1]! - tEtr) / 1000),
      },
      restored: {
        messages: restored.length,
        messagesPerSecond: round(restored.length / restoredSeconds, 0),
        firstRestoredToLastQueuedSeconds: seconds(r.first_restored, r.last_queued),
        firstRestoredToLastSentSeconds: seconds(r.first_restored, r.last_sent),
        lastRestoredToLastSentSeconds: seconds(r.last_restored, r.last_sent),
      },
      callbacks: {
        what: `${callers.length} callers (fault calls POSTed to /v1/requests in ${round(callsSeconds, 1)} s during the outage, merged into its incidents) asked to confirm on restoration; per ask: seconds from its incident's restoredAt`,
        ...callbacks,
      },
      yardstick: {
        what: `raw node:http POST loop (keep-alive), ${CONCURRENCY} concurrent, same gateway and a customer SMS body`,
        requests: houhu.length,
        seconds: round(rawSeconds),
        requestsPerSecond: round(houhu.length / rawSeconds, 0),
      },
      ...(sdkSeconds !== null
        ? {
            sdkYardstick: {
              what: `the ${SMS} SDK's SendSms alone in a loop, ${CONCURRENCY} concurrent, to the same stand-in (signature made and checked, in this process)`,
              requests: houhu.length,
              seconds: round(sdkSeconds),
              requestsPerSecond: round(houhu.length / sdkSeconds, 0),
            },
            ratioToSdkLoop: round(etr.length / etrSeconds / (houhu.length / sdkSeconds), 3),
          }
        : {}),
      ratioToRawPost: round(etr.length / etrSeconds / (houhu.length / rawSeconds), 3),
      loadAverage: loadavg().map((l) => round(l)),
      totalSeconds: round((performance.now() - started) / 1000, 1),
    };
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
    const file = SMS === 'gateway' ? 'customers.json' : `customers-${SMS}.json`;
    writeFileSync(new URL(`./results/${file}`, import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
    const ps = (s: { p50: number; max: number }) => `p50 ${s.p50} s, max ${s.max} s`;
    console.log(
      [
        `customers: ${result.accounts} 后湖 accounts, ${result.bus} bus, SMS via ${SMS}, customer lane ${CONCURRENCY} concurrent, SMS rate unlimited`,
        `outage:    ${result.outage.messagesPerSecond} SMS/s at the receiver (${result.outage.messages} in ${result.outage.seconds} s; first meter POST → last SMS ${result.outage.firstPostToLastSmsSeconds} s)`,
        `etr:       ${result.etrChanged.messagesPerSecond} SMS/s at the receiver (${result.etrChanged.messages} in ${result.etrChanged.seconds} s; first PUT → last SMS ${result.etrChanged.firstPutToLastSmsSeconds} s)`,
        `restored:  first incident.restored → last message queued ${result.restored.firstRestoredToLastQueuedSeconds} s, sent ${result.restored.firstRestoredToLastSentSeconds} s (${result.restored.messagesPerSecond} SMS/s)`,
        `callbacks: ${callbacks.asks} callers asked; per ask from its incident.restored: callback row ${ps(callbacks.perAsk.asked)}; queued ${ps(callbacks.perAsk.queued)}; sent ${ps(callbacks.perAsk.sent)}`,
        `           first incident.restored → last ask queued ${callbacks.firstRestoredToLastQueuedSeconds} s, sent ${callbacks.firstRestoredToLastSentSeconds} s`,
        ...(sdkSeconds !== null
          ? [
              `sdk:       ${round(houhu.length / sdkSeconds, 0)} SendSms/s with the ${SMS} SDK alone → the SMS path (ETR stage) is ${round((etr.length / etrSeconds / (houhu.length / sdkSeconds)) * 100, 1)} % of it`,
            ]
          : []),
        `raw:       ${result.yardstick.requestsPerSecond} POST/s → the SMS path (ETR stage) is ${(result.ratioToRawPost * 100).toFixed(1)} % of a raw POST loop (load average ${result.loadAverage.join(' ')})`,
        `wrote bench/results/${file}`,
      ].join('\n'),
    );
  } finally {
    await stack.stop();
    await bus.close();
    await vendor?.close();
    gateway.server.closeAllConnections();
    gateway.server.close();
    await db.drop();
  }
}

await main();
