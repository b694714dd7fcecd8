import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRetentionConfig, startRetention } from '@griddispatch/db';
import { READ_MODEL_TOPICS } from './consumers/consume.ts';
import { intakeRetention } from './retention.ts';
import { KEYS, requestBody, startHarness, type Harness } from './testing/harness.ts';

// What an operator reads on intake's /metrics — requests accepted, open work orders, the outbox
// while the relay is not running, the read model's lag — and what the retention sweeper takes.

const DAY = 86_400_000;
let h: Harness;
beforeAll(async () => {
  // Built but not started: the relay is not running yet.
  h = await startHarness({ start: false });
});
afterAll(async () => {
  await h?.close();
});

async function scrape(): Promise<string> {
  const res = await h.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${KEYS.admin}` } });
  expect(res.statusCode).toBe(200);
  return res.body;
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const bodies = [requestBody(), requestBody(), requestBody()];
const ids: string[] = [];

describe('intake /metrics', () => {
  it('counts accepted requests and retries, open work orders, and the outbox while the relay is stopped', async () => {
    for (const body of bodies) {
      const res = await h.post('/v1/requests', body);
      expect(res.statusCode).toBe(202);
      ids.push(res.json<{ id: string }>().id);
    }
    expect((await h.post('/v1/requests', bodies[0])).json()).toMatchObject({ duplicate: true });
    const meter = { eventId: 'MET-1', kind: 'power_off', meterId: 'M-1', districtCode: 'HH-TQ-017', at: new Date(Date.now() - 60_000).toISOString() };
    expect((await h.post('/v1/meter-events', { source: 'hes', events: [meter, { ...meter, eventId: 'MET-2' }] })).statusCode).toBe(202);
    expect((await h.post('/v1/meter-events', { source: 'hes', events: [meter] })).json()).toEqual({ accepted: 0, duplicates: 1 });

    const text = await scrape();
    expect(value(text, 'griddispatch_intake_meter_events_total{result="accepted"}')).toBe(2);
    expect(value(text, 'griddispatch_intake_meter_events_total{result="duplicate"}')).toBe(1);
    expect(value(text, 'griddispatch_intake_requests_total{channel="api",result="accepted"}')).toBe(3);
    expect(value(text, 'griddispatch_intake_requests_total{channel="api",result="duplicate"}')).toBe(1);
    expect(value(text, 'griddispatch_intake_work_orders_open{status="received"}')).toBe(3);
    expect(value(text, 'griddispatch_intake_work_orders_open{status="assigned"}')).toBe(0);
    expect(value(text, 'griddispatch_outbox_backlog{service="intake"}')).toBe(5);
    expect(value(text, 'griddispatch_outbox_oldest_seconds{service="intake"}')).toBeGreaterThanOrEqual(0);
    // The read model's consumer has not joined: no lag series pretends it keeps up.
    expect(text).not.toMatch(/^griddispatch_consumer_lag\{service="intake"/m);
    expect(value(text, 'griddispatch_consumer_lag_available{service="intake"}')).toBe(1);
  });

  it('shows the outbox empty and the read model caught up once intake runs', async () => {
    await h.intake.start();
    await h.settle();
    const text = await scrape();
    expect(value(text, 'griddispatch_outbox_backlog{service="intake"}')).toBe(0);
    expect(value(text, 'griddispatch_outbox_oldest_seconds{service="intake"}')).toBe(0);
    for (const topic of READ_MODEL_TOPICS) {
      expect(text).toMatch(new RegExp(`^griddispatch_consumer_lag\\{service="intake",group="[^"]+",topic="${topic.replace('.', '\\.')}"\\} 0$`, 'm'));
    }
  });
});

describe('intake retention', () => {
  it('deletes a cancelled work order and its timeline once old; open ones stay', async () => {
    const [cancelled, ...open] = ids as [string, ...string[]];
    const res = await h.post(`/v1/work-orders/${cancelled}/events`, { type: 'cancelled', note: '重复报修' }, KEYS.field);
    expect(res.statusCode).toBe(200);
    await h.settle();
    expect(value(await scrape(), 'griddispatch_intake_work_orders_open{status="received"}')).toBe(2);

    const config = loadRetentionConfig({});
    const at = (ms: number) =>
      startRetention({ pool: h.db.pool, schema: 'intake', tables: intakeRetention(config), intervalMs: 0, now: () => new Date(Date.now() + ms) });
    const early = at(29 * DAY);
    expect((await early.sweep()).deleted.requests).toBe(0);
    await early.stop();

    const late = at(31 * DAY);
    const { deleted } = await late.sweep();
    await late.stop();
    expect(deleted.requests).toBe(1);
    expect(deleted.timeline).toBeGreaterThanOrEqual(2);
    expect((await h.get(`/v1/requests/${cancelled}`)).statusCode).toBe(404);
    for (const id of open) expect((await h.get(`/v1/requests/${id}`)).statusCode).toBe(200);
    expect(await h.count('timeline')).toBe(2);
    expect(await h.count('inbox')).toBe(0);
  });
});
