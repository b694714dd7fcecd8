import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessBus, type Bus } from '@griddispatch/bus';
import type { Incident } from '@griddispatch/contracts';
import { generateSampleCounty } from '@griddispatch/grid';
import { parseHttpEnv } from '@griddispatch/http';
import { loadConfig } from '@griddispatch/notification';
import { startReceiver, type Receiver } from '@griddispatch/notification/testing/receiver';
import { createLogger } from '@griddispatch/observability';
import { freshDatabase } from '@griddispatch/testkit';
import { simulate } from './commands/simulate.ts';
import { districtsOfFeeder } from './commands/simulate-feeder-trip.ts';
import { testIo } from './commands/test-io.ts';
import { buildStack, type Stack } from './stack.ts';

// Telling the customers (主动服务) end to end on the embedded stack: a feeder trips (its meters
// go off) → every account of the feeder's 台区 gets one "power is off" SMS at the gateway,
// aquaculture and cold storage first; a 2-hour ETR move → one "new ETR" SMS each (a 10-minute one
// → none); the meters come back → one "restored" SMS each. Nested 台区 incidents under the
// feeder incident never repeat a stage.

const KEY = 'cust-secret-0123456789abcdef';
const FEEDER = 'HH-10kV-03';
const county = generateSampleCounty({ seed: 1 });
const districts = new Set(districtsOfFeeder(county, FEEDER));
const accounts = county.customers.filter((c) => districts.has(c.districtCode) && c.phone);
const urgent = new Set(accounts.filter((c) => c.classes?.some((k) => k === 'aquaculture' || k === 'cold_storage')).map((c) => `+86${c.phone}`));

let db: Awaited<ReturnType<typeof freshDatabase>>;
let bus: Bus;
let stack: Stack;
let url: string;
let gateway: Receiver;

interface Sms {
  to: string;
  /** Our message kind (the gateway's `templateId` is the vendor code mapped to it, null unmapped). */
  kind: string;
  params: Record<string, string>;
  text: string;
}
const sent = (kind: string): Sms[] => gateway.received.map((r) => JSON.parse(r.body) as Sms).filter((m) => m.kind === kind);

beforeAll(async () => {
  gateway = await startReceiver();
  db = await freshDatabase('customer_notices');
  const logger = createLogger({ service: 'customers-test', level: process.env.LOG_LEVEL ?? 'warn' });
  bus = createInProcessBus({ prefix: 'griddispatch.', logger });
  const notification = loadConfig({ NOTIFY_SMS_URL: gateway.url, NOTIFY_RATE_SMS: '2000/s', NOTIFY_CUSTOMER_CONCURRENCY: '32', NOTIFY_POLL_MS: '200' });
  stack = await buildStack({
    pool: db.pool,
    bus,
    logger,
    http: parseHttpEnv({ GD_API_KEYS: `cust:${KEY}:admin`, GD_RATE_LIMIT_MAX: '0' }),
    sampleData: true,
    notification,
  });
  await stack.host.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(stack.host.server.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await bus?.close();
  await db?.drop();
  await gateway?.close();
});

const auth = { authorization: `Bearer ${KEY}` };

async function feederIncident(): Promise<Incident> {
  const res = await stack.host.inject({ method: 'GET', url: `/v1/incidents?feederCode=${FEEDER}&limit=100`, headers: auth });
  const found = (res.json() as { items: Incident[] }).items.find((i) => i.kind === 'feeder');
  if (!found) throw new Error('no feeder incident yet');
  return found;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until nothing new arrives for a while: a duplicate would have had time to show. */
async function settled(ms = 1_500): Promise<void> {
  let seen = -1;
  while (seen !== gateway.received.length) {
    seen = gateway.received.length;
    await new Promise((r) => setTimeout(r, ms));
  }
}

function oncePerAccount(kind: string): void {
  const messages = sent(kind);
  const phones = new Set(accounts.map((c) => `+86${c.phone}`));
  expect(new Set(messages.map((m) => m.to))).toEqual(phones);
  expect(messages).toHaveLength(phones.size);
}

describe('customers of a tripped feeder', () => {
  it('each account gets one "power is off" SMS, aquaculture and cold storage first', async () => {
    expect(accounts.length).toBeGreaterThan(1_000);
    expect(urgent.size).toBeGreaterThan(0);
    const t = testIo({ env: { GD_URL: url, GD_API_KEY: KEY } });
    expect(await simulate(['--feeder-trip', FEEDER], t.io)).toBe(0);
    await until(() => sent('outage.detected').length >= new Set(accounts.map((c) => c.phone)).size, 'an outage SMS to every account');
    await settled();
    oncePerAccount('outage.detected');
    // In each 台区 (one notice queued at once) every urgent account is told before the ordinary
    // ones, give or take the messages in flight at once.
    const byArea = new Map<string, boolean[]>();
    sent('outage.detected').forEach((m) => byArea.set(m.params.area!, [...(byArea.get(m.params.area!) ?? []), urgent.has(m.to)]));
    let mixed = 0;
    for (const order of byArea.values()) {
      if (!order.includes(true) || !order.includes(false)) continue;
      mixed += 1;
      expect(order.lastIndexOf(true) - order.indexOf(false)).toBeLessThan(32);
    }
    expect(mixed).toBeGreaterThan(3);
    const example = sent('outage.detected')[0]!;
    expect(example.text).toContain('停电');
    expect(Object.keys(example.params).sort()).toEqual(['account', 'area', 'etr']);
  }, 120_000);

  it('an ETR moved by 2 h tells each account once; one moved by 10 min tells no one', async () => {
    const incident = await feederIncident();
    const later = new Date(Date.parse(incident.etr) + 2 * 3_600_000).toISOString();
    const put = await stack.host.inject({ method: 'PUT', url: `/v1/incidents/${incident.id}/etr`, headers: auth, payload: { etr: later, by: 'dispatcher' } });
    expect(put.statusCode).toBe(200);
    await until(() => sent('outage.etr_changed').length >= new Set(accounts.map((c) => c.phone)).size, 'an ETR SMS to every account');
    const tweak = new Date(Date.parse(later) + 10 * 60_000).toISOString();
    expect(
      (await stack.host.inject({ method: 'PUT', url: `/v1/incidents/${incident.id}/etr`, headers: auth, payload: { etr: tweak, by: 'dispatcher' } }))
        .statusCode,
    ).toBe(200);
    await settled();
    oncePerAccount('outage.etr_changed');
  }, 120_000);

  it('restoration tells each account once; the deliveries and /metrics show the progress', async () => {
    const t = testIo({ env: { GD_URL: url, GD_API_KEY: KEY } });
    expect(await simulate(['--feeder-trip', FEEDER, '--restore'], t.io)).toBe(0);
    await until(() => sent('outage.restored').length >= new Set(accounts.map((c) => c.phone)).size, 'a restored SMS to every account');
    await settled();
    oncePerAccount('outage.restored');
    expect(sent('outage.detected')).toHaveLength(new Set(accounts.map((c) => c.phone)).size);

    // A 台区's stages are keyed by the incident that first told it: the feeder incident, or a 台区
    // incident that opened before the feeder's and nested under it.
    const feeder = await feederIncident();
    let items: { recipient: string; status: string; notice: { subject: string; kind: string; stage: string } }[] = [];
    for (const id of [feeder.id, ...feeder.childIds]) {
      const list = await stack.host.inject({ method: 'GET', url: `/v1/deliveries?subject=${id}&kind=outage.restored&limit=5`, headers: auth });
      expect(list.statusCode).toBe(200);
      items = (list.json() as { items: typeof items }).items;
      if (items.length > 0) break;
    }
    expect(items).toHaveLength(5);
    expect(items.every((d) => d.status === 'delivered' && d.notice.kind === 'outage.restored' && d.recipient.includes('****'))).toBe(true);

    const metrics = await stack.host.inject({ method: 'GET', url: '/metrics', headers: auth });
    expect(metrics.body).toMatch(/griddispatch_notification_customer_messages\{kind="outage.restored",status="delivered"\} \d+/);
  }, 120_000);
});
