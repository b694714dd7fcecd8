import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessBus, type Bus } from '@griddispatch/bus';
import type { PlannedOutage } from '@griddispatch/contracts';
import { generateSampleCounty } from '@griddispatch/grid';
import { parseHttpEnv } from '@griddispatch/http';
import { loadConfig } from '@griddispatch/notification';
import { startReceiver, type Receiver } from '@griddispatch/notification/testing/receiver';
import { createLogger, type Logger } from '@griddispatch/observability';
import { freshDatabase } from '@griddispatch/testkit';
import { buildStack, type Stack } from './stack.ts';

// Planned-outage notices (计划停电通知) end to end on the embedded stack: customers are told when
// the outage is announced and 24 h before it starts — a delivery row due then, which survives a
// restart of the whole process — and told of a move or a cancellation, whose stale reminder is
// dropped.

const KEY = 'plan-secret-0123456789abcdef';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const county = generateSampleCounty({ seed: 1 });
const houhu = county.districts.filter((d) => d.code.startsWith('HH'));
const accountsOf = (codes: string[]) => new Set(county.customers.filter((c) => codes.includes(c.districtCode) && c.phone).map((c) => `+86${c.phone}`));

let db: Awaited<ReturnType<typeof freshDatabase>>;
let bus: Bus;
let stack: Stack;
let gateway: Receiver;
let logger: Logger;

interface Sms {
  to: string;
  /** Our message kind (the gateway's `templateId` is the vendor code mapped to it, null unmapped). */
  kind: string;
  params: Record<string, string>;
}
const sent = (kind: string): Sms[] => gateway.received.map((r) => JSON.parse(r.body) as Sms).filter((m) => m.kind === kind);
const auth = { authorization: `Bearer ${KEY}` };

async function start(): Promise<void> {
  bus = createInProcessBus({ prefix: 'griddispatch.', logger });
  const notification = loadConfig({ NOTIFY_SMS_URL: gateway.url, NOTIFY_RATE_SMS: '2000/s', NOTIFY_POLL_MS: '200' });
  stack = await buildStack({
    pool: db.pool,
    bus,
    logger,
    http: parseHttpEnv({ GD_API_KEYS: `plan:${KEY}:admin`, GD_RATE_LIMIT_MAX: '0' }),
    sampleData: true,
    notification,
  });
}

async function stop(): Promise<void> {
  await stack.stop();
  await bus.close();
}

beforeAll(async () => {
  gateway = await startReceiver();
  db = await freshDatabase('planned_notices');
  logger = createLogger({ service: 'planned-test', level: process.env.LOG_LEVEL ?? 'warn' });
  await start();
}, 60_000);

afterAll(async () => {
  await stop();
  await db?.drop();
  await gateway?.close();
});

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function post(body: Record<string, unknown>): Promise<PlannedOutage> {
  const res = await stack.host.inject({ method: 'POST', url: '/v1/planned-outages', headers: auth, payload: body });
  expect(res.statusCode).toBe(201);
  return res.json<PlannedOutage>();
}

async function reminders(outageId: string): Promise<{ status: string; stage: string; due: Date | null; error: string | null }[]> {
  const { rows } = await db.pool.query<{ status: string; stage: string; due: Date | null; error: string | null }>(
    "SELECT DISTINCT status, notice_stage AS stage, next_attempt_at AS due, last_error AS error FROM notification.deliveries WHERE notice_subject = $1 AND notice_kind = 'planned.reminder' ORDER BY stage",
    [outageId],
  );
  return rows;
}

describe('planned-outage notices', () => {
  it('tells the customers at once, and again 24 h before the start — a timer that outlives a restart', async () => {
    const codes = [houhu[0]!.code];
    const phones = accountsOf(codes);
    const startAt = Date.now() + DAY + 10_000;
    const outage = await post({
      externalId: 'tmp-1',
      kind: 'temporary',
      districtCodes: codes,
      start: new Date(startAt).toISOString(),
      end: new Date(startAt + 2 * HOUR).toISOString(),
      reason: '更换变压器',
    });
    await until(() => sent('planned.announced').length >= phones.size, 'the announcement');
    expect(new Set(sent('planned.announced').map((m) => m.to))).toEqual(phones);
    expect(sent('planned.announced')[0]!.params.reason).toBe('更换变压器');
    expect(sent('planned.reminder')).toHaveLength(0);
    await until(async () => (await reminders(outage.id)).length > 0, 'the reminder row');

    await stop(); // the whole process goes away before the reminder is due
    await start();
    await until(() => sent('planned.reminder').length >= phones.size, 'the reminder', 30_000);
    expect(Date.now()).toBeGreaterThanOrEqual(startAt - DAY);
    expect(new Set(sent('planned.reminder').map((m) => m.to))).toEqual(phones);
    expect(sent('planned.reminder')).toHaveLength(phones.size);
  }, 90_000);

  it('a moved outage tells its customers the new window and moves the reminder; a cancelled one drops it', async () => {
    const codes = [houhu[1]!.code];
    const phones = accountsOf(codes);
    const startAt = Date.now() + 8 * DAY;
    const outage = await post({
      externalId: 'pms-1',
      kind: 'planned',
      districtCodes: codes,
      start: new Date(startAt).toISOString(),
      end: new Date(startAt + 4 * HOUR).toISOString(),
      reason: '线路检修',
    });
    await until(async () => (await reminders(outage.id)).length === 1, 'the reminder row');
    expect((await reminders(outage.id))[0]).toMatchObject({ status: 'pending', stage: 'reminder:v1', due: new Date(startAt - DAY) });

    const later = startAt + DAY;
    const moved = await stack.host.inject({
      method: 'PUT',
      url: `/v1/planned-outages/${outage.id}`,
      headers: auth,
      payload: { start: new Date(later).toISOString(), end: new Date(later + 4 * HOUR).toISOString() },
    });
    expect(moved.statusCode).toBe(200);
    await until(() => sent('planned.changed').length >= phones.size, 'the correction');
    expect(new Set(sent('planned.changed').map((m) => m.to))).toEqual(phones);
    await until(async () => (await reminders(outage.id)).length === 2, 'the moved reminder');
    expect(await reminders(outage.id)).toMatchObject([
      { status: 'failed', stage: 'reminder:v1', error: 'superseded: changed:v2' },
      { status: 'pending', stage: 'reminder:v2', due: new Date(later - DAY) },
    ]);

    const cancelled = await stack.host.inject({ method: 'POST', url: `/v1/planned-outages/${outage.id}/cancel`, headers: auth });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json<PlannedOutage>().status).toBe('cancelled');
    await until(() => sent('planned.cancelled').length >= phones.size, 'the cancellation notice');
    await until(async () => (await reminders(outage.id)).every((r) => r.status === 'failed'), 'no reminder left');
    expect(sent('planned.changed')).toHaveLength(phones.size);
    expect(sent('planned.cancelled')).toHaveLength(phones.size);
    // Cancelling again is refused and tells no one.
    expect((await stack.host.inject({ method: 'POST', url: `/v1/planned-outages/${outage.id}/cancel`, headers: auth })).statusCode).toBe(409);
  }, 90_000);
});
