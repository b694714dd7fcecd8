import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { IncomingMessage } from '@griddispatch/bus';
import { serializeEvent, Topics, type CloudEvent } from '@griddispatch/contracts';
import { createPool, withTransaction, type Pool } from '@griddispatch/db';
import { requestReceivedConsumer } from './consumers/request-received.ts';
import {
  at,
  closeAllIncidents,
  fault,
  FEEDER,
  FEEDER_CUSTOMERS,
  importFeederDistricts,
  incidentEventsOf,
  routingContext,
  shortType,
} from './testing/incident-fixture.ts';
import { assigned, requestEvent, silentLogger, startHarness, type Harness } from './testing/harness.ts';
import { openIncident } from './use-cases/incidents.ts';
import { tellCallCounts } from './use-cases/tell-call-counts.ts';

// Outages (docs/architecture.md#incidents): fault calls join their 台区's open incident (open until restored), one
// primary per incident, feeder nesting, the ETR, and incidents.events — against a real PostgreSQL.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await importFeederDistricts(h.db.pool);
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  await closeAllIncidents(h);
});

const minutes = (n: number) => n * 60_000;

const message = (e: CloudEvent<'cn.griddispatch.request.received.v1'>, partition: number, offset: number): IncomingMessage => ({
  topic: Topics.requestsReceived,
  key: e.data.id,
  value: Buffer.from(serializeEvent(e)),
  headers: {},
  partition,
  offset: String(offset),
  attempt: 1,
});

async function openIncidents(districtCode: string): Promise<{ id: string; primary_request_id: string | null; call_count: number }[]> {
  const { rows } = await h.db.pool.query(
    "SELECT id, primary_request_id, call_count FROM routing.incidents WHERE district_code = $1 AND status NOT IN ('restored', 'closed')",
    [districtCode],
  );
  return rows;
}

describe('calls of one 台区 are one incident until it is restored', () => {
  it('the second call is merged into the first one’s incident: one dispatch.assigned each, one primary, the policy ETR on both', async () => {
    const first = fault('2026-12-01T10:00:00', 'TQ-003');
    const second = fault('2026-12-01T14:00:00', 'TQ-003');
    const outs = (await h.send(first, second)).map(assigned);
    expect(outs.map((d) => d.workOrderId)).toEqual([first.data.id, second.data.id]);
    expect(outs.map((d) => d.role)).toEqual(['primary', 'merged']);
    expect(outs.map((d) => d.incidentSize)).toEqual([1, 2]);
    const incidentId = outs[0]!.incidentId!;
    expect(outs[1]?.incidentId).toBe(incidentId);
    // Urban fault repair: resolve window 3h45m from the opening call.
    expect(outs.map((d) => d.etr)).toEqual([new Date(Date.parse(first.data.receivedAt) + minutes(225)).toISOString(), outs[0]?.etr]);

    expect(await openIncidents('TQ-003')).toEqual([{ id: incidentId, primary_request_id: first.data.id, call_count: 2 }]);
    // Rule 8: the second call's count is written at once, told by the next count tell, once.
    expect(incidentEventsOf(h, incidentId).map(shortType)).toEqual(['opened']);
    // Two replicas telling at once tell it once (the second waits on the feeder lock, then finds it told).
    const tell = () => tellCallCounts(routingContext(h.db.pool), h.db.pool);
    expect((await Promise.all([tell(), tell()])).sort()).toEqual([0, 1]);
    expect(await tell()).toBe(0);
    await h.settle();
    const events = incidentEventsOf(h, incidentId);
    expect(events.map(shortType)).toEqual(['opened', 'updated']);
    expect(events[0]?.data).toMatchObject({
      status: 'dispatched',
      origin: 'call',
      kind: 'district',
      gridId: 'TC-G1',
      feederCode: 'TC-10kV-01',
      districtCodes: ['TQ-003'],
      parentId: null,
      childIds: [],
      callCount: 1,
      affectedCustomers: 1,
      primaryRequestId: first.data.id,
      etrSource: 'policy',
      etr: outs[0]?.etr,
      restoredAt: null,
      restorationUnconfirmed: false,
      change: 'opened',
    });
    expect(events[1]?.data).toMatchObject({ callCount: 2, change: 'calls' });
    expect(events.every((e) => h.incidentEvents.includes(e) && e.subject === incidentId)).toBe(true);
  });

  it('a burst of one 台区 consumed as one batch: one incident, exactly one primary; a redelivery changes nothing', async () => {
    const calls = Array.from({ length: 20 }, (_, i) => fault(`2026-12-02T10:${String(i).padStart(2, '0')}:00`, 'TQ-004'));
    const before = h.outputs.length;
    const eventsBefore = h.incidentEvents.length;
    await h.bus.publish(
      Topics.requestsReceived,
      calls.map((event) => ({ key: event.data.id, value: serializeEvent(event) })),
    );
    await h.settle();
    const outs = h.outputs.slice(before).map(assigned);
    expect(outs).toHaveLength(20);
    expect(new Set(outs.map((d) => d.incidentId)).size).toBe(1);
    expect(outs.filter((d) => d.role === 'primary')).toHaveLength(1);
    expect(outs.map((d) => d.incidentSize).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const [open] = await openIncidents('TQ-004');
    expect(open?.call_count).toBe(20);
    expect(h.incidentEvents.slice(eventsBefore).filter((e) => e.type === 'cn.griddispatch.incident.opened.v1')).toHaveLength(1);

    const afterBurst = h.incidentEvents.length;
    expect(await h.send(calls[0]!, calls[7]!)).toHaveLength(0);
    expect(h.incidentEvents.length).toBe(afterBurst);
    expect((await openIncidents('TQ-004'))[0]?.call_count).toBe(20);
  });

  it('a request naming its incident becomes its primary (an incident opened by its meters); calls before it were merged', async () => {
    const ctx = routingContext(h.db.pool);
    const opened = await withTransaction(h.db.pool, (client) =>
      openIncident(ctx, client, { districtCode: 'TQ-003', gridId: 'TC-G1', origin: 'meter', at: new Date(at('2026-12-03T09:00:00')) }),
    );
    expect(opened).toMatchObject({ status: 'open', origin: 'meter', primaryRequestId: null, callCount: 0, districtCodes: ['TQ-003'] });
    const call = fault('2026-12-03T09:05:00', 'TQ-003');
    const own = requestEvent({ receivedAt: at('2026-12-03T09:06:00'), source: 'grid-dispatch', location: { districtCode: 'TQ-003' }, incidentId: opened.id });
    const [c, o] = (await h.send(call, own)).map(assigned);
    expect(c).toMatchObject({ incidentId: opened.id, role: 'merged', incidentSize: 1, etr: opened.etr });
    expect(o).toMatchObject({ incidentId: opened.id, role: 'primary', etr: opened.etr });
    const events = incidentEventsOf(h, opened.id);
    // The merged call's count rides with the primary's change (rule 8).
    expect(events.map(shortType)).toEqual(['opened', 'updated']);
    expect(events.at(-1)?.data).toMatchObject({ primaryRequestId: own.data.id, status: 'dispatched', callCount: 1, change: 'primary' });
    // Opening again while it is open returns the open one: a 台区 is never in two open incidents.
    const again = await withTransaction(h.db.pool, (client) =>
      openIncident(ctx, client, { districtCode: 'TQ-003', gridId: 'TC-G1', origin: 'meter', at: new Date() }),
    );
    expect(again.id).toBe(opened.id);
    expect(await openIncidents('TQ-003')).toHaveLength(1);
  });
});

describe('feeder nesting (GD_FEEDER_DISTRICTS = 3)', () => {
  it('the 3rd 台区 of a feeder opened within the window nests the three under a feeder incident; a 4th opens as its child, without a primary', async () => {
    const [a, b, c] = (
      await h.send(fault('2026-12-04T10:00:00', 'TQ-001'), fault('2026-12-04T10:05:00', 'TQ-002'), fault('2026-12-04T10:10:00', 'TQ-005'))
    ).map(assigned);
    expect([a, b, c].map((d) => d?.role)).toEqual(['primary', 'primary', 'primary']);
    const opened = h.incidentEvents.filter((e) => e.type === 'cn.griddispatch.incident.opened.v1' && e.data.kind === 'feeder' && e.data.feederCode === FEEDER);
    expect(opened).toHaveLength(1);
    const feeder = opened[0]!.data;
    expect(feeder).toMatchObject({
      status: 'open',
      gridId: 'HH-A',
      districtCodes: ['TQ-001', 'TQ-002', 'TQ-005'],
      parentId: null,
      primaryRequestId: null,
      callCount: 3,
      affectedCustomers: FEEDER_CUSTOMERS,
      etrSource: 'policy',
    });
    expect(feeder.childIds).toEqual([a!.incidentId, b!.incidentId, c!.incidentId].sort());
    // The first two learn their parent (nested); the third opened with it.
    for (const child of [a, b]) expect(incidentEventsOf(h, child!.incidentId!).at(-1)?.data).toMatchObject({ parentId: feeder.id, change: 'nested' });
    expect(incidentEventsOf(h, c!.incidentId!).at(-1)?.data).toMatchObject({ parentId: feeder.id, primaryRequestId: c!.workOrderId, change: 'opened' });

    const [d, e] = (await h.send(fault('2026-12-04T10:20:00', 'TQ-006'), fault('2026-12-04T10:21:00', 'TQ-006'))).map(assigned);
    expect([d?.role, e?.role]).toEqual(['merged', 'merged']);
    expect(e?.incidentId).toBe(d?.incidentId);
    const child = incidentEventsOf(h, d!.incidentId!)[0]!.data;
    expect(child).toMatchObject({ parentId: feeder.id, primaryRequestId: null, status: 'open', districtCodes: ['TQ-006'] });
    const parent = incidentEventsOf(h, feeder.id).at(-1)!.data;
    expect(parent.districtCodes).toEqual(['TQ-001', 'TQ-002', 'TQ-005', 'TQ-006']);
    expect(parent.childIds).toHaveLength(4);
    // The parent counts every child's call; the last count is told by the next count tell (rule 8).
    await tellCallCounts(routingContext(h.db.pool), h.db.pool);
    await h.settle();
    expect(incidentEventsOf(h, feeder.id).at(-1)!.data).toMatchObject({ callCount: 5, change: 'calls' });
  });

  it('district incidents opened further apart than GD_INCIDENT_WINDOW (15 min) do not nest', async () => {
    const before = h.incidentEvents.length;
    await h.send(fault('2026-12-05T10:00:00', 'TQ-001'), fault('2026-12-05T10:20:00', 'TQ-002'), fault('2026-12-05T10:40:00', 'TQ-005'));
    const events = h.incidentEvents.slice(before);
    expect(events.filter((e) => e.data.kind === 'feeder')).toHaveLength(0);
    expect(events.every((e) => e.data.parentId === null)).toBe(true);
  });
});

describe('planned outages (the plannedOutages hook, rule 7)', () => {
  it('calls inside [start, end + 15 min] join the outage’s incident (merged, ETR = end, no primary); after that a call opens an ordinary incident', async () => {
    const start = new Date(at('2026-12-06T08:00:00'));
    const end = new Date(at('2026-12-06T12:00:00'));
    const asked: string[][] = [];
    const ctx = {
      ...routingContext(h.db.pool),
      plannedOutages: async (_client: unknown, districts: string[]) => {
        asked.push(districts);
        return [{ id: 'po-1', districtCode: 'TQ-004', start, end }];
      },
    };
    const consumer = requestReceivedConsumer({ pool: h.db.pool, logger: silentLogger(), ctx });
    const inside = [fault('2026-12-06T09:00:00', 'TQ-004'), fault('2026-12-06T12:10:00', 'TQ-004')];
    await consumer.batchHandler(inside.map((e, i) => message(e, 0, i)));
    const { rows } = await h.db.pool.query(
      `SELECT i.origin, i.status, i.primary_request_id, i.planned_outage_id, i.etr, i.etr_source, i.call_count, array_agg(r.role) AS roles
         FROM routing.incidents i JOIN routing.routed_requests r ON r.incident_id = i.id WHERE r.request_id = ANY($1::text[]) GROUP BY i.id`,
      [inside.map((e) => e.data.id)],
    );
    expect(rows).toEqual([
      {
        origin: 'planned',
        status: 'open',
        primary_request_id: null,
        planned_outage_id: 'po-1',
        etr: end,
        etr_source: 'planned',
        call_count: 2,
        roles: ['merged', 'merged'],
      },
    ]);
    expect(asked).toEqual([['TQ-004']]);

    const after = fault('2026-12-06T12:16:00', 'TQ-004');
    await consumer.batchHandler([message(after, 0, 2)]);
    const open = await openIncidents('TQ-004');
    expect(open).toEqual([{ id: expect.any(String), primary_request_id: after.data.id, call_count: 1 }]);
    const planned = await h.db.pool.query("SELECT status, restored_at FROM routing.incidents WHERE planned_outage_id = 'po-1'");
    expect(planned.rows).toEqual([{ status: 'closed', restored_at: end }]);
    await h.settle();
  });
});

describe('two replicas, two partitions', () => {
  let second: Pool;
  beforeAll(() => {
    second = createPool(h.db.url, { max: 4, logger: silentLogger() });
  });
  afterAll(async () => {
    await second?.end();
  });

  const messages = (events: CloudEvent<'cn.griddispatch.request.received.v1'>[], partition: number): IncomingMessage[] =>
    events.map((e, i) => message(e, partition, i));

  it('calls of one 台区 and of one feeder applied at once by two replicas: one incident per 台区, one primary each, one feeder incident', async () => {
    const replica = (pool: Pool) => requestReceivedConsumer({ pool, logger: silentLogger(), ctx: routingContext(pool) });
    const [r1, r2] = [replica(h.db.pool), replica(second)];
    for (let round = 0; round < 3; round++) {
      await closeAllIncidents(h);
      const day = `2026-12-${String(10 + round).padStart(2, '0')}`;
      const p0 = [
        ...Array.from({ length: 6 }, (_, i) => fault(`${day}T10:0${i}:00`, 'TQ-001')),
        ...Array.from({ length: 4 }, (_, i) => fault(`${day}T10:0${i}:30`, 'TQ-005')),
      ];
      const p1 = [
        ...Array.from({ length: 6 }, (_, i) => fault(`${day}T10:0${i}:10`, 'TQ-001')),
        ...Array.from({ length: 4 }, (_, i) => fault(`${day}T10:0${i}:40`, 'TQ-002')),
      ];
      await Promise.all([r1.batchHandler(messages(p0, 0)), r2.batchHandler(messages(p1, 1))]);

      const tq1 = await openIncidents('TQ-001');
      expect(tq1).toHaveLength(1);
      expect(tq1[0]?.call_count).toBe(12);
      const { rows } = await h.db.pool.query<{ role: string; n: number }>(
        'SELECT role, count(*)::int AS n FROM routing.routed_requests WHERE incident_id = $1 GROUP BY role ORDER BY role',
        [tq1[0]?.id],
      );
      expect(rows).toEqual([
        { role: 'merged', n: 11 },
        { role: 'primary', n: 1 },
      ]);
      const feeders = await h.db.pool.query("SELECT district_codes FROM routing.incidents WHERE kind = 'feeder' AND feeder_code = $1 AND status = 'open'", [
        FEEDER,
      ]);
      expect(feeders.rows).toEqual([{ district_codes: ['TQ-001', 'TQ-002', 'TQ-005'] }]);
    }
    await h.settle();
  });
});

it('every incident event is keyed by its incident and parses as the contract', () => {
  expect(h.incidentEvents.length).toBeGreaterThan(0);
  for (const e of h.incidentEvents) expect(e.subject).toBe(e.data.id);
  expect(new Set(h.incidentEvents.map((e) => e.id)).size).toBe(h.incidentEvents.length);
});
