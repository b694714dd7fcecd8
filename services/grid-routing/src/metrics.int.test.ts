import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topics, serializeEvent } from '@griddispatch/contracts';
import { loadRetentionConfig, startRetention } from '@griddispatch/db';
import { REPORT_HISTORY_MS, routingRetention } from './retention.ts';
import { ADMIN_KEY, requestEvent, startHarness, type Harness } from './testing/harness.ts';

// What an operator reads on grid-routing's /metrics — decisions by how the grid was found, the
// fallback desk's queue, lag and outbox — and what the retention sweeper takes.

const DAY = 86_400_000;
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function scrape(): Promise<string> {
  const res = await h.host.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  expect(res.statusCode).toBe(200);
  return res.body;
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function count(table: string, where = 'true'): Promise<number> {
  const { rows } = await h.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM routing.${table} WHERE ${where}`);
  return rows[0]!.n;
}

describe('grid-routing /metrics', () => {
  it('counts decisions by result and resolution, once per request, and the fallback desk queue', async () => {
    const receivedAt = new Date().toISOString();
    const byAccount = requestEvent({ receivedAt, customer: { accountNo: '3000000002' } });
    await h.send(
      byAccount,
      requestEvent({ receivedAt, location: { districtCode: 'TQ-001' } }),
      requestEvent({ receivedAt, category: 'consultation', location: { districtCode: 'TQ-003' } }),
      requestEvent({ receivedAt, category: 'complaint', location: {} }),
    );
    // A redelivered record is no new decision.
    await h.bus.publish(Topics.requestsReceived, [{ key: byAccount.data.id, value: serializeEvent(byAccount) }]);
    await h.settle();

    const text = await scrape();
    expect(value(text, 'griddispatch_routing_decisions_total{result="assigned",resolved_by="account"}')).toBe(1);
    // Two fault calls on two 台区: two incidents dispatched to their first caller.
    expect(value(text, 'griddispatch_routing_incidents_open{kind="district",status="dispatched"}')).toBe(2);
    expect(value(text, 'griddispatch_routing_decisions_total{result="assigned",resolved_by="district"}')).toBe(2);
    expect(value(text, 'griddispatch_routing_decisions_total{result="unroutable",resolved_by="none"}')).toBe(1);
    expect(value(text, 'griddispatch_routing_unroutable')).toBe(1);
    const group = text.match(/^griddispatch_consumer_lag\{service="grid-routing",group="([^"]+)",topic="requests\.received"\} 0$/m);
    expect(group).not.toBeNull();
    expect(value(text, 'griddispatch_consumer_lag_available{service="grid-routing"}')).toBe(1);
    expect(value(text, 'griddispatch_outbox_backlog{service="grid-routing"}')).toBe(0);
    expect(value(text, 'griddispatch_outbox_oldest_seconds{service="grid-routing"}')).toBe(0);
  });
});

describe('grid-routing retention', () => {
  it('deletes old assigned decisions, then closed incidents nothing points to; keeps unroutable requests for the desk', async () => {
    expect(await count('routed_requests', "status = 'assigned'")).toBe(3);
    const incidents = await count('incidents');
    expect(incidents).toBeGreaterThan(0);
    const config = loadRetentionConfig({});
    const at = (ms: number) =>
      startRetention({ pool: h.db.pool, schema: 'routing', tables: routingRetention(config), intervalMs: 0, now: () => new Date(Date.now() + ms) });

    const early = at(6 * DAY);
    expect((await early.sweep()).deleted).toEqual({
      routed_requests: 0,
      incidents: 0,
      meter_events: 0,
      meter_event_noops: 0,
      planned_outages: 0,
      customer_episodes: 0,
      planned_outage_notices: 0,
      inbox: 0,
    });
    await early.stop();

    // An incident stays while it is open (calls still join it), whatever its age.
    const late = at(31 * DAY);
    // Inbox marks: those of routing (4) and the 2 incident events read by the consumer that tells the customers.
    expect((await late.sweep()).deleted).toEqual({
      routed_requests: 3,
      incidents: 0,
      meter_events: 0,
      meter_event_noops: 0,
      planned_outages: 0,
      customer_episodes: 0,
      planned_outage_notices: 0,
      inbox: 6,
    });
    await h.db.pool.query("UPDATE routing.incidents SET status = 'closed', updated_at = now()");
    // A closed incident is the reports' history: kept for the six years a major-event threshold needs.
    expect((await late.sweep()).deleted).toEqual({
      routed_requests: 0,
      incidents: 0,
      meter_events: 0,
      meter_event_noops: 0,
      planned_outages: 0,
      customer_episodes: 0,
      planned_outage_notices: 0,
      inbox: 0,
    });
    await late.stop();
    const gone = at(REPORT_HISTORY_MS + DAY);
    expect((await gone.sweep()).deleted).toMatchObject({ incidents });
    await gone.stop();
    expect(await count('routed_requests')).toBe(1);
    expect(await count('routed_requests', "status = 'unroutable'")).toBe(1);
    // Reference data is never touched.
    expect(await count('grids')).toBeGreaterThan(0);
    expect(await count('customers')).toBeGreaterThan(0);
    expect(await count('meters')).toBeGreaterThan(0);
  });
});
