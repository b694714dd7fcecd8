import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEvent, serializeEvent, Topics, type Incident, type MeterEventV1 } from '@griddispatch/contracts';
import { toCsv } from '@griddispatch/grid';
import { ADMIN_KEY, assigned, requestEvent, startHarness, type Harness } from './testing/harness.ts';
import { importData } from './use-cases/import-data.ts';
import { getIncident } from './use-cases/incidents.ts';

// Rule 6 (docs/architecture.md#incidents): meter power-off opens incidents before anyone calls; power-on confirms
// restoration. The fixture county gets five more accounts (meters) per 台区.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  const extra = ['TQ-001', 'TQ-002', 'TQ-003', 'TQ-004'].flatMap((d, i) =>
    Array.from({ length: 5 }, (_, n) => ({ accountNo: String(3100000000 + i * 10 + n), districtCode: d, classes: [] })),
  );
  const report = await importData(h.db.pool, { customers: { text: toCsv('customers', extra) } });
  if (!report.ok) throw new Error(JSON.stringify(report.problems));
});
afterAll(async () => {
  await h?.close();
});

const meter = (district: number, n: number) => `M-${3100000000 + (district - 1) * 10 + n}`;
const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();

function meterEvent(meterId: string, kind: MeterEventV1['kind'], at: string, eventId: string = randomUUID()) {
  const data: MeterEventV1 = { source: 'amr-hh', eventId, kind, meterId, at, receivedAt: new Date().toISOString() };
  return buildEvent({ type: 'cn.griddispatch.meter.event.v1', source: 'intake', subject: meterId, data });
}

async function publish(...events: ReturnType<typeof meterEvent>[]): Promise<void> {
  await h.bus.publish(
    Topics.metersEvents,
    events.map((e) => ({ key: e.data.meterId, value: serializeEvent(e) })),
  );
  await h.settle();
}

async function openIncidents(district: string): Promise<{ id: string; origin: string; primary_request_id: string | null }[]> {
  const { rows } = await h.db.pool.query(
    "SELECT id, origin, primary_request_id FROM routing.incidents WHERE district_code = $1 AND status NOT IN ('restored', 'closed')",
    [district],
  );
  return rows;
}

async function incident(id: string): Promise<Incident> {
  const found = await getIncident(h.db.pool, id);
  if (!found) throw new Error(`no incident ${id}`);
  return found;
}

async function interruption(id: string): Promise<{ evidence_at: Date; confirmed_at: Date | null; interrupted_until: Date | null }> {
  const { rows } = await h.db.pool.query('SELECT evidence_at, confirmed_at, interrupted_until FROM routing.incidents WHERE id = $1', [id]);
  return rows[0];
}

async function noops(): Promise<{ event_id: string; reason: string }[]> {
  return (await h.db.pool.query('SELECT event_id, reason FROM routing.meter_event_noops ORDER BY id')).rows;
}

describe('meter power-off (主动抢修)', () => {
  it('two meters off open nothing; the third within 2 min opens one incident (origin meter, no primary) that calls then join', async () => {
    const firstOff = ago(60);
    await publish(meterEvent(meter(1, 0), 'power_off', firstOff), meterEvent(meter(1, 1), 'power_off', ago(50)));
    expect(await openIncidents('TQ-001')).toEqual([]);
    await publish(meterEvent(meter(1, 2), 'power_off', ago(40)));
    const open = await openIncidents('TQ-001');
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ origin: 'meter', primary_request_id: null });
    // For the reports, the outage began at the quorum's first power-off, not the third.
    expect((await interruption(open[0]!.id)).evidence_at.toISOString()).toBe(firstOff);
    // A fourth meter is evidence only: still one incident.
    await publish(meterEvent(meter(1, 3), 'power_off', ago(30)));
    expect(await openIncidents('TQ-001')).toHaveLength(1);

    const [call] = await h.send(requestEvent({ receivedAt: ago(20), location: { districtCode: 'TQ-001' } }));
    expect(assigned(call)).toMatchObject({ incidentId: open[0]!.id, role: 'merged' });
  });

  it('the transformer meter alone opens an incident', async () => {
    await publish(meterEvent('TM-TQ-002', 'power_off', ago(30)));
    const open = await openIncidents('TQ-002');
    expect(open).toHaveLength(1);
    expect(open[0]?.origin).toBe('meter');
  });

  it('three meters off further apart than the window open nothing', async () => {
    await publish(
      meterEvent(meter(3, 0), 'power_off', ago(600)),
      meterEvent(meter(3, 1), 'power_off', ago(400)),
      meterEvent(meter(3, 2), 'power_off', ago(200)),
    );
    expect(await openIncidents('TQ-003')).toEqual([]);
  });
});

describe('meter power-on', () => {
  it('all meters back on before the crew → the incident is restored by meters', async () => {
    const [open] = await openIncidents('TQ-002');
    await publish(meterEvent('TM-TQ-002', 'power_on', ago(10)));
    const restored = await incident(open!.id);
    expect(restored).toMatchObject({ status: 'restored', restorationUnconfirmed: false });
  });

  it('crew resolved while meters are off → restorationUnconfirmed; their power-on confirms it', async () => {
    const [open] = await openIncidents('TQ-001');
    // intake's work order for the meter incident (rule 2) becomes its primary; the crew resolves it.
    const own = requestEvent({ receivedAt: ago(15), source: 'grid-dispatch', location: { districtCode: 'TQ-001' }, incidentId: open!.id });
    const [wo] = await h.send(own);
    expect(assigned(wo)).toMatchObject({ incidentId: open!.id, role: 'primary' });
    await h.bus.publish(Topics.workordersEvents, [
      {
        key: own.data.id,
        value: serializeEvent(
          buildEvent({
            type: 'cn.griddispatch.workorder.updated.v1',
            source: 'intake',
            subject: own.data.id,
            data: { workOrderId: own.data.id, type: 'resolved', at: ago(10), previousStatus: 'arrived', status: 'resolved', gridId: null },
          }),
        ),
      },
    ]);
    await h.settle();
    expect(await incident(open!.id)).toMatchObject({ status: 'restored', restorationUnconfirmed: true });
    await publish(meterEvent(meter(1, 0), 'power_on', ago(5)), meterEvent(meter(1, 1), 'power_on', ago(5)), meterEvent(meter(1, 2), 'power_on', ago(5)));
    expect((await incident(open!.id)).restorationUnconfirmed).toBe(true);
    expect((await interruption(open!.id)).interrupted_until?.toISOString()).toBe((await incident(open!.id)).restoredAt);
    const lastOn = ago(4);
    await publish(meterEvent(meter(1, 3), 'power_on', lastOn));
    expect((await incident(open!.id)).restorationUnconfirmed).toBe(false);
    // For the reports, the interruption ended when the last meter came back, not at the crew's resolve.
    expect(await interruption(open!.id)).toMatchObject({ confirmed_at: new Date(lastOn), interrupted_until: new Date(lastOn) });
  });
});

describe('no-ops: recorded with the reason, counted, never dead-lettered', () => {
  it('unknown meter, the same (source, eventId) again, power-on without outage, a far-future stamp, an event older than the meter’s state', async () => {
    const first = meterEvent(meter(4, 0), 'power_off', ago(5), 'dup-1');
    await publish(first);
    const before = (await noops()).length;
    await publish(
      meterEvent('M-9999999999', 'power_off', ago(5), 'unknown-1'),
      // Resent by the head-end: same eventId, new CloudEvent id.
      meterEvent(meter(4, 0), 'power_off', ago(5), 'dup-1'),
      meterEvent(meter(4, 1), 'power_on', ago(5), 'on-1'),
      meterEvent(meter(4, 2), 'power_off', new Date(Date.now() + 3_600_000).toISOString(), 'future-1'),
      // Arrives late: older than what the meter last said.
      meterEvent(meter(4, 0), 'power_on', ago(60), 'stale-1'),
    );
    const recorded = (await noops()).slice(before).sort((a, b) => a.event_id.localeCompare(b.event_id));
    expect(recorded).toEqual([
      { event_id: 'dup-1', reason: 'duplicate' },
      { event_id: 'future-1', reason: 'future' },
      { event_id: 'on-1', reason: 'no_outage' },
      { event_id: 'stale-1', reason: 'stale' },
      { event_id: 'unknown-1', reason: 'unknown_meter' },
    ]);
    expect(await openIncidents('TQ-004')).toEqual([]);
    const metrics = (await h.host.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${ADMIN_KEY}` } })).body;
    expect(metrics).toMatch(/griddispatch_meter_events_total\{kind="power_off",result="noop_unknown_meter"\} 1/);
    expect(metrics).toMatch(/griddispatch_meter_events_total\{kind="power_on",result="noop_no_outage"\} 1/);
  });
});

describe('storm mode: single customers’ power-offs are ignored', () => {
  // A station that reacts to a single last gasp in calm weather (GD_METER_QUORUM=1).
  let s: Harness;
  beforeAll(async () => {
    s = await startHarness({ config: { meterQuorum: 1 } });
  });
  afterAll(async () => {
    await s?.close();
  });
  const send = async (...events: ReturnType<typeof meterEvent>[]) => {
    await s.bus.publish(
      Topics.metersEvents,
      events.map((e) => ({ key: e.data.meterId, value: serializeEvent(e) })),
    );
    await s.settle();
  };
  const open = async (district: string) =>
    (await s.db.pool.query("SELECT id FROM routing.incidents WHERE district_code = $1 AND status NOT IN ('restored', 'closed')", [district])).rows;

  it('calm: one customer meter opens an incident; storm: it is a recorded no-op, while the transformer meter still opens one', async () => {
    await send(meterEvent('M-3000000001', 'power_off', ago(30)));
    expect(await open('TQ-001')).toHaveLength(1);

    const storm = await s.host.inject({
      method: 'PUT',
      url: '/v1/storm',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      payload: { gridIds: 'all', active: true },
    });
    expect(storm.statusCode).toBe(200);
    await send(meterEvent('M-3000000003', 'power_off', ago(20), 'storm-single'));
    expect(await open('TQ-003')).toEqual([]);
    const { rows } = await s.db.pool.query("SELECT reason FROM routing.meter_event_noops WHERE event_id = 'storm-single'");
    expect(rows).toEqual([{ reason: 'storm_single_customer' }]);
    await send(meterEvent('TM-TQ-003', 'power_off', ago(10)));
    expect(await open('TQ-003')).toHaveLength(1);
  });
});

describe('meters inside a planned outage (rule 7)', () => {
  let p: Harness;
  beforeAll(async () => {
    // Temporary outages may start a second after they are posted here.
    p = await startHarness({ config: { temporaryNoticeMs: 500 } });
  });
  afterAll(async () => {
    await p?.close();
  });

  it('the transformer meter going off in the window opens the outage’s incident (no crew), which calls then join', async () => {
    const start = Date.now() + 1_000;
    const end = start + 3_600_000;
    const res = await p.host.inject({
      method: 'POST',
      url: '/v1/planned-outages',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      payload: {
        externalId: 'tmp-1',
        kind: 'temporary',
        districtCodes: ['TQ-004'],
        start: new Date(start).toISOString(),
        end: new Date(end).toISOString(),
        reason: '临时检修',
      },
    });
    expect(res.statusCode).toBe(201);
    await new Promise((r) => setTimeout(r, start + 200 - Date.now()));
    const off = meterEvent('TM-TQ-004', 'power_off', new Date().toISOString());
    await p.bus.publish(Topics.metersEvents, [{ key: 'TQ-004', value: serializeEvent(off) }]);
    await p.settle();
    const { rows } = await p.db.pool.query("SELECT id FROM routing.incidents WHERE district_code = 'TQ-004' AND status NOT IN ('restored', 'closed')");
    expect(rows).toHaveLength(1);
    expect(await getIncident(p.db.pool, rows[0].id)).toMatchObject({
      origin: 'planned',
      plannedOutageId: res.json<{ id: string }>().id,
      primaryRequestId: null,
      etrSource: 'planned',
    });
    const [call] = await p.send(requestEvent({ receivedAt: new Date().toISOString(), location: { districtCode: 'TQ-004' } }));
    expect(assigned(call)).toMatchObject({ incidentId: rows[0].id, role: 'merged', etr: new Date(end).toISOString() });
  });
});
