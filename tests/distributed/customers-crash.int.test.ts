import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import { generateSampleCounty } from '@griddispatch/grid';
import { startReceiver, type Receiver } from '@griddispatch/notification/testing/receiver';
import { freshDatabase, testTopicPrefix, type FreshDatabase } from '@griddispatch/testkit';
import { call, eventually } from './harness/api.ts';
import { spawnService, stopAll, waitReady, type ServiceProcess } from './harness/processes.ts';
import { deleteRun, kafkaClient } from './harness/topics.ts';

// Telling 13,700 customers through a crash (issue 14): the whole 后湖 station loses power (every
// account's meter reports power_off through intake → grid-routing opens an incident per 台区 and
// one per feeder → customers.notices), and notification is SIGKILLed while it is sending the
// "power is off" SMS. After a restart every account has exactly one delivery row for the stage,
// every phone got the message, and the messages the gateway saw twice are at most the sends in
// flight at the kill (NOTIFY_CUSTOMER_CONCURRENCY): a send that reached the gateway but whose
// result was not recorded is sent again when its lease runs out (README, "Crash window").
// Restoration then tells every account once.

const CONCURRENCY = 32;
const ADMIN = randomBytes(16).toString('hex');
const HES = randomBytes(16).toString('hex');
const county = generateSampleCounty({ seed: 1 });
const houhu = county.customers.filter((c) => c.districtCode.startsWith('HH') && c.phone);
const phones = new Set(houhu.map((c) => `+86${c.phone}`));

let db: FreshDatabase;
let prefix: string;
let logDir: string;
let kafka: Kafka;
let gateway: Receiver;
let env: NodeJS.ProcessEnv;
const procs: ServiceProcess[] = [];
let failed = false;

interface Sms {
  to: string;
  /** Our message kind (the gateway's `templateId` is the vendor code mapped to it, null unmapped). */
  kind: string;
}
const sent = (kind: string): Sms[] => gateway.received.map((r) => JSON.parse(r.body) as Sms).filter((m) => m.kind === kind);

beforeAll(async () => {
  const brokers = process.env.KAFKA_BROKERS?.split(',');
  if (!brokers) throw new Error('KAFKA_BROKERS is not set (vitest global setup: packages/testkit)');
  kafka = kafkaClient(brokers, 'customers-crash');
  db = await freshDatabase('customers_crash');
  prefix = testTopicPrefix();
  logDir = await mkdtemp(join(tmpdir(), 'gd-customers-'));
  gateway = await startReceiver();
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'NODE_ENV'));
  env = {
    ...inherited,
    DATABASE_URL: db.url,
    KAFKA_BROKERS: brokers.join(','),
    GD_TOPIC_PREFIX: prefix,
    GD_API_KEYS: `ops:${ADMIN}:admin,hes:${HES}:requests:write`,
    GD_KEY_PEPPER: randomBytes(32).toString('base64url'),
    GD_SAMPLE_DATA: '1',
    LOG_LEVEL: 'info',
    NOTIFY_SMS_URL: gateway.url,
    // Slow enough that the kill lands mid-send, fast enough for a test.
    NOTIFY_RATE_SMS: '500/s',
    NOTIFY_CUSTOMER_CONCURRENCY: String(CONCURRENCY),
  };
  procs.push(
    await spawnService('notification', 1, env, logDir),
    await spawnService('grid-routing', 1, env, logDir),
    await spawnService('intake', 1, env, logDir),
  );
  await waitReady(procs, 150_000, (line) => console.info(`customers-crash: ${line}`));
}, 180_000);

afterAll(async () => {
  await stopAll(procs);
  await gateway?.close();
  await db?.drop();
  if (kafka && prefix) await deleteRun(kafka, prefix).catch(() => undefined);
  if (failed) console.error(`customers-crash: service logs kept in ${logDir}`);
  else if (logDir) await rm(logDir, { recursive: true, force: true });
}, 60_000);

/** Every 后湖 meter reports `kind` (1,000 events a POST, as the head-end would). */
async function allMeters(kind: 'power_off' | 'power_on', run: string): Promise<void> {
  const intake = procs.find((p) => p.service === 'intake')!.url;
  const at = new Date().toISOString();
  for (let i = 0; i < houhu.length; i += 1_000) {
    const events = houhu.slice(i, i + 1_000).map((c) => ({ eventId: `${run}-${kind}-${c.accountNo}`, kind, meterId: `M-${c.accountNo}`, at }));
    const res = await call(`${intake}/v1/meter-events`, { key: HES, json: { source: 'hes-test', events } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
  }
}

async function rowsPerAccount(kind: string): Promise<{ rows: number; accounts: number; delivered: number }> {
  const { rows } = await db.pool.query<{ rows: number; accounts: number; delivered: number }>(
    `SELECT count(*)::int AS rows, count(DISTINCT account_no)::int AS accounts, count(*) FILTER (WHERE status = 'delivered')::int AS delivered
       FROM notification.deliveries WHERE notice_kind = $1`,
    [kind],
  );
  return rows[0]!;
}

it('SIGKILL of notification mid-send to 13,700 accounts: after a restart each account has one message per stage', async () => {
  onTestFailed(() => {
    failed = true;
  });
  expect(houhu.length).toBe(13_700);
  const run = randomBytes(3).toString('hex');
  await allMeters('power_off', run);

  await eventually('the first 2,000 outage SMS', 120_000, async () => (sent('outage.detected').length >= 2_000 ? true : undefined));
  const victim = procs.find((p) => p.service === 'notification')!;
  process.kill(-victim.child.pid!, 'SIGKILL');
  await victim.exited;
  const atKill = sent('outage.detected').length;
  console.info(`customers-crash: notification killed after ${atKill} outage SMS`);
  expect(atKill).toBeLessThan(phones.size);

  const again = await spawnService('notification', 2, env, logDir);
  procs.push(again);
  await waitReady([again], 120_000);
  // The rows claimed by the killed process come back when their lease (60 s) runs out.
  await eventually(
    'every account told of the outage',
    240_000,
    async () => ((await rowsPerAccount('outage.detected')).delivered === houhu.length ? true : undefined),
    1_000,
  );
  const outage = await rowsPerAccount('outage.detected');
  expect(outage).toEqual({ rows: houhu.length, accounts: houhu.length, delivered: houhu.length });
  const messages = sent('outage.detected');
  expect(new Set(messages.map((m) => m.to))).toEqual(phones);
  const twice = messages.length - phones.size;
  console.info(`customers-crash: ${messages.length} outage SMS for ${phones.size} phones: ${twice} posted twice (in flight at the kill; bound ${CONCURRENCY})`);
  expect(twice).toBeLessThanOrEqual(CONCURRENCY);
  // Each repeat is the same message again (its idempotency key), never a second message: a
  // gateway that honours the key sends every phone exactly one.
  const keys = new Map<string, Set<string>>();
  for (const r of gateway.received) {
    const m = JSON.parse(r.body) as Sms;
    if (m.kind === 'outage.detected') keys.set(m.to, (keys.get(m.to) ?? new Set()).add(r.headers['idempotency-key'] ?? ''));
  }
  expect([...keys.values()].filter((k) => k.size !== 1 || k.has(''))).toEqual([]);
  expect(keys.size).toBe(phones.size);

  await allMeters('power_on', run);
  await eventually(
    'every account told of the restoration',
    180_000,
    async () => ((await rowsPerAccount('outage.restored')).delivered === houhu.length ? true : undefined),
    1_000,
  );
  expect(await rowsPerAccount('outage.restored')).toEqual({ rows: houhu.length, accounts: houhu.length, delivered: houhu.length });
  const restored = sent('outage.restored');
  expect(new Set(restored.map((m) => m.to))).toEqual(phones);
  expect(restored).toHaveLength(phones.size);
}, 600_000);
