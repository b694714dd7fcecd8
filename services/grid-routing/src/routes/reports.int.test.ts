import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEvent, serializeEvent, Topics, type CloudEvent } from '@griddispatch/contracts';
import { toCsv } from '@griddispatch/grid';
import { importFeederDistricts } from '../testing/incident-fixture.ts';
import { ADMIN_KEY, READ_KEY, assigned, requestEvent, startHarness, type Harness } from '../testing/harness.ts';
import { importData } from '../use-cases/import-data.ts';
import { getIncident } from '../use-cases/incidents.ts';
import type { ReliabilityReport, ReliabilityRow } from '../use-cases/report-reliability.ts';
import type { ReliabilitySeries } from '../use-cases/report-reliability-series.ts';
import { reportResponse, type ResponseReport } from '../use-cases/report-response.ts';

// GET /v1/reports/reliability against a real PostgreSQL, on incidents made the way production
// makes them (calls through requests.received, crews through workorders.events).
//
// The county (testing/incident-fixture.ts): customers per 台区 and where they are —
//   TQ-001 1 (HH-G1, HH-10kV-01)   TQ-002 1 (HH-G2, HH-10kV-01)   TQ-005 2 (HH-G1, HH-10kV-01)
//   TQ-006 0 (HH-G2, HH-10kV-01)   TQ-003 1 (TC-G1, TC-10kV-01)   TQ-004 0 (TC-G1, TC-10kV-01)
// Customers served: HH-G1 3, HH-G2 1, TC-G1 1 (system 5); HH-10kV-01 4, TC-10kV-01 1.
//
// The fixture, all in December 2026, times Asia/Shanghai; the period is [12-01, 12-21):
// 20 days = 28,800 minutes.
//   12-01…12-16  TQ-003, one call at 10:00 each day, its crew resolves it after 10 min on odd
//                days, 20 min on even days (12-02's caller reported at 10:00 but was received
//                at 10:05: the interruption still starts at 10:00, resolved 10:20 → 20 min).
//                16 interruptions × 1 customer; customer-minutes 8 × 10 + 8 × 20 = 240.
//   12-17        TQ-001, TQ-002, TQ-005 call at 10:00, 10:01, 10:02: a feeder incident over them
//                (4 customers: every 台区 of HH-10kV-01). Their crews resolve them at 10:10,
//                10:20, 10:30; the feeder incident is restored with its last child, 10:30:
//                one interruption of 4 customers × 30 min = 120 customer-minutes; the three
//                children are not counted again. By grid, its customers are where they live:
//                HH-G1 3 (TQ-001 1 + TQ-005 2) × 30 = 90, HH-G2 1 × 30 = 30.
//                Also TQ-001 at 14:00, resolved 14:04: 4 min, momentary — not counted.
//   12-18        TQ-005 from 08:00 to 18:00: 2 customers × 600 min = 1,200 (the major event).
//   12-20        TQ-003 from 23:00 to 12-21 01:00: 120 min, 60 of them inside the period.
//
// Major event days (2.5β over the daily SAIDI, each interruption whole on the day it starts,
// ÷ 5 customers): 8 days of 10/5 = 2, 8 days of 20/5 = 4, 12-17 120/5 = 24, 12-18 1200/5 = 240,
// 12-20 120/5 = 24 — 19 days.
//   ln: 8 × 0.693147, 8 × 1.386294, 2 × 3.178054, 1 × 5.480639; Σ = 28.472279
//   α = 28.472279 / 19 = 1.498541
//   Σ (ln − α)²: 8 × 0.648659 + 8 × 0.012599 + 2 × 2.820763 + 15.857104 = 26.788699
//   β = √(26.788699 / 18) = 1.219943 (sample deviation, n − 1)
//   T_MED = e^(α + 2.5β) = e^(1.498541 + 3.049858) = e^4.548399 = 94.48 min; only 12-18 (240) is above it.
//
// Without the major event day (the default):
//   TC-G1  served 1: CI 16 + 1 = 17, CMI 240 + 60 = 300 → SAIFI 17, SAIDI 300, CAIDI 300/17 = 17.65,
//          ASAI 1 − 300/28,800 = 0.989583
//   HH-G1  served 3: CI 3, CMI 90 → SAIFI 1, SAIDI 30, CAIDI 30, ASAI 1 − 30/28,800 = 0.998958
//   HH-G2  served 1: CI 1, CMI 30 → SAIFI 1, SAIDI 30, CAIDI 30, ASAI 0.998958
// With it (includeMed=true), HH-G1 adds CI 2, CMI 1,200:
//   HH-G1  CI 5, CMI 1,290 → SAIFI 5/3 = 1.67, SAIDI 430, CAIDI 430/(5/3) = 258, ASAI 1 − 430/28,800 = 0.985069
// By feeder: HH-10kV-01 served 4, CI 4, CMI 120 → SAIFI 1, SAIDI 30, CAIDI 30 (with the MED:
// CI 6, CMI 1,320 → SAIFI 1.5, SAIDI 330, CAIDI 220); TC-10kV-01 = TC-G1.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await importFeederDistricts(h.db.pool);
  await buildFixture();
});
afterAll(async () => {
  await h?.close();
});

const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const at = (isoLocal: string) => new Date(`${isoLocal}+08:00`).toISOString();

function workOrderEvent(
  workOrderId: string,
  type: 'acknowledged' | 'arrived' | 'resolved' | 'closed',
  local: string,
): CloudEvent<'cn.griddispatch.workorder.updated.v1'> {
  return buildEvent({
    type: 'cn.griddispatch.workorder.updated.v1',
    source: 'intake',
    subject: workOrderId,
    data: { workOrderId, type, at: at(local), previousStatus: 'assigned', status: type, gridId: null },
  });
}

async function publish(...events: CloudEvent<'cn.griddispatch.workorder.updated.v1'>[]): Promise<void> {
  await h.bus.publish(
    Topics.workordersEvents,
    events.map((e) => ({ key: e.data.workOrderId, value: serializeEvent(e) })),
  );
  await h.settle();
}

/** A fault call of a 台区 at a local time (optionally reported earlier); its work order. */
async function call(
  districtCode: string,
  local: string,
  reportedLocal?: string,
): Promise<{ workOrderId: string; incidentId: string; arriveDeadline: string | undefined }> {
  const event = requestEvent({ receivedAt: at(local), location: { districtCode }, ...(reportedLocal ? { reportedAt: at(reportedLocal) } : {}) });
  const d = assigned((await h.send(event))[0]);
  return { workOrderId: d.workOrderId, incidentId: d.incidentId!, arriveDeadline: d.sla.deadlines.arrive };
}

async function outage(districtCode: string, fromLocal: string, toLocal: string): Promise<void> {
  const { workOrderId } = await call(districtCode, fromLocal);
  await publish(workOrderEvent(workOrderId, 'resolved', toLocal));
}

async function buildFixture(): Promise<void> {
  for (let day = 1; day <= 16; day++) {
    const dd = String(day).padStart(2, '0');
    if (day === 2) {
      const { workOrderId } = await call('TQ-003', '2026-12-02T10:05:00', '2026-12-02T10:00:00');
      await publish(workOrderEvent(workOrderId, 'resolved', '2026-12-02T10:20:00'));
    } else {
      await outage('TQ-003', `2026-12-${dd}T10:00:00`, `2026-12-${dd}T10:${day % 2 === 1 ? '10' : '20'}:00`);
    }
  }
  const a = await call('TQ-001', '2026-12-17T10:00:00');
  const b = await call('TQ-002', '2026-12-17T10:01:00');
  const c = await call('TQ-005', '2026-12-17T10:02:00');
  const parentId = (await getIncident(h.db.pool, a.incidentId))!.parentId;
  expect(parentId).toBeTruthy();
  await publish(workOrderEvent(a.workOrderId, 'resolved', '2026-12-17T10:10:00'));
  await publish(workOrderEvent(b.workOrderId, 'resolved', '2026-12-17T10:20:00'));
  await publish(workOrderEvent(c.workOrderId, 'resolved', '2026-12-17T10:30:00'));
  expect(await getIncident(h.db.pool, parentId!)).toMatchObject({ status: 'restored', restoredAt: at('2026-12-17T10:30:00') });
  await outage('TQ-001', '2026-12-17T14:00:00', '2026-12-17T14:04:00');
  await outage('TQ-005', '2026-12-18T08:00:00', '2026-12-18T18:00:00');
  await outage('TQ-003', '2026-12-20T23:00:00', '2026-12-21T01:00:00');
}

async function report(query: string, key = READ_KEY) {
  return h.host.inject({ method: 'GET', url: `/v1/reports/reliability?${query}`, headers: auth(key) });
}

const PERIOD = `from=${encodeURIComponent(at('2026-12-01T00:00:00'))}&to=${encodeURIComponent(at('2026-12-21T00:00:00'))}`;

function expectRow(rows: ReliabilityRow[], key: string, want: Omit<ReliabilityRow, 'key'>): void {
  const row = rows.find((r) => r.key === key);
  expect(row, key).toBeDefined();
  expect(row!.customersServed).toBe(want.customersServed);
  for (const field of ['customerInterruptions', 'customerMinutes', 'saifi', 'saidi', 'asai'] as const) {
    expect(Math.abs(row![field] - want[field]), `${key} ${field}: ${row![field]} vs ${want[field]}`).toBeLessThan(0.01);
  }
  if (want.caidi === null) expect(row!.caidi).toBeNull();
  else expect(Math.abs(row!.caidi! - want.caidi)).toBeLessThan(0.01);
}

describe('GET /v1/reports/reliability: the hand-computed fixture', () => {
  it('by grid, the major event day excluded (the default) and listed', async () => {
    const res = await report(`${PERIOD}&groupBy=grid`);
    expect(res.statusCode).toBe(200);
    const body = res.json<ReliabilityReport>();
    expect(body.medDays.map((d) => d.day)).toEqual(['2026-12-18']);
    expect(body.medDays[0]!.saidi).toBeCloseTo(240, 2);
    expect(body.excludedMed).toBe(true);
    expect(body.medMethod).toMatchObject({ method: 'IEEE 1366 2.5β', days: 19, standardYears: 5 });
    expect(body.medMethod.tMed!).toBeCloseTo(94.48, 1);
    expect(body.medMethod.note).toMatch(/fewer than the standard 5 years/);
    expect(body.rows.map((r) => r.key)).toEqual(['HH-G1', 'HH-G2', 'TC-G1']);
    expectRow(body.rows, 'TC-G1', {
      customersServed: 1,
      customerInterruptions: 17,
      customerMinutes: 300,
      saifi: 17,
      saidi: 300,
      caidi: 17.647,
      asai: 0.989583,
    });
    expectRow(body.rows, 'HH-G1', { customersServed: 3, customerInterruptions: 3, customerMinutes: 90, saifi: 1, saidi: 30, caidi: 30, asai: 0.998958 });
    expectRow(body.rows, 'HH-G2', { customersServed: 1, customerInterruptions: 1, customerMinutes: 30, saifi: 1, saidi: 30, caidi: 30, asai: 0.998958 });
  });

  it('by grid with includeMed=true: the major event day counts', async () => {
    const body = (await report(`${PERIOD}&groupBy=grid&includeMed=true`)).json<ReliabilityReport>();
    expect(body.medDays.map((d) => d.day)).toEqual(['2026-12-18']);
    expect(body.excludedMed).toBe(false);
    expectRow(body.rows, 'HH-G1', {
      customersServed: 3,
      customerInterruptions: 5,
      customerMinutes: 1290,
      saifi: 5 / 3,
      saidi: 430,
      caidi: 258,
      asai: 0.985069,
    });
    expectRow(body.rows, 'HH-G2', { customersServed: 1, customerInterruptions: 1, customerMinutes: 30, saifi: 1, saidi: 30, caidi: 30, asai: 0.998958 });
    expectRow(body.rows, 'TC-G1', {
      customersServed: 1,
      customerInterruptions: 17,
      customerMinutes: 300,
      saifi: 17,
      saidi: 300,
      caidi: 17.647,
      asai: 0.989583,
    });
  });

  it('by feeder, with and without the major event day', async () => {
    const without = (await report(`${PERIOD}&groupBy=feeder`)).json<ReliabilityReport>();
    expect(without.rows.map((r) => r.key)).toEqual(['HH-10kV-01', 'TC-10kV-01']);
    expectRow(without.rows, 'HH-10kV-01', {
      customersServed: 4,
      customerInterruptions: 4,
      customerMinutes: 120,
      saifi: 1,
      saidi: 30,
      caidi: 30,
      asai: 1 - 30 / 28800,
    });
    expectRow(without.rows, 'TC-10kV-01', {
      customersServed: 1,
      customerInterruptions: 17,
      customerMinutes: 300,
      saifi: 17,
      saidi: 300,
      caidi: 17.647,
      asai: 0.989583,
    });
    const withMed = (await report(`${PERIOD}&groupBy=feeder&includeMed=true`)).json<ReliabilityReport>();
    expectRow(withMed.rows, 'HH-10kV-01', {
      customersServed: 4,
      customerInterruptions: 6,
      customerMinutes: 1320,
      saifi: 1.5,
      saidi: 330,
      caidi: 220,
      asai: 1 - 330 / 28800,
    });
  });

  it('answers CSV with Accept: text/csv: a header row, one row per key', async () => {
    const res = await h.host.inject({ method: 'GET', url: `/v1/reports/reliability?${PERIOD}`, headers: { ...auth(READ_KEY), accept: 'text/csv' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['x-med-days']).toBe('2026-12-18');
    const lines = res.body.split('\r\n');
    expect(lines[0]).toBe('key,customersServed,customerInterruptions,customerMinutes,saifi,saidi,caidi,asai');
    expect(lines.slice(1, -1).map((l) => l.split(',')[0])).toEqual(['HH-G1', 'HH-G2', 'TC-G1']);
    expect(lines[3]).toMatch(/^TC-G1,1,17,300,17,300,17\.647\d*,0\.98958/);
    expect(lines.at(-1)).toBe('');
  });

  // The series the board draws: a point per local month or day, the range's major event days left out.
  //   November 2026: no interruption — 0 everywhere. December (the whole month now, so 12-20's
  //   outage counts all of its 120 min): TC-G1 CMI 240 + 120 = 360 over 1 customer → SAIDI 360,
  //   SAIFI 17; HH-G1 SAIDI 90 / 3 = 30; HH-G2 30. The same 19 days fit the same T_MED: 12-18 left out.
  //   By day over [12-17, 12-19): one fit on the 18 days before 12-19 (8 × 2, 8 × 4, 24, 240):
  //   α = 25.294221 / 18 = 1.405234, β = √(23.811231 / 17) = 1.183495, T_MED = e^4.363972 = 78.56:
  //   12-18 (240) is a major event day, 12-17 (24) is not. HH-G1 on 12-17: 30; on 12-18: 0, and
  //   1,200 / 3 = 400 with includeMed=true.
  it('a series per local month or day, one major-event fit for the range', async () => {
    const series = async (q: string) => {
      const res = await h.host.inject({ method: 'GET', url: `/v1/reports/reliability/series?${q}`, headers: auth(READ_KEY) });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<ReliabilitySeries>();
    };
    const range = (a: string, b: string) => `from=${encodeURIComponent(at(a))}&to=${encodeURIComponent(at(b))}`;
    const monthly = await series(`${range('2026-11-01T00:00:00', '2027-01-01T00:00:00')}&groupBy=grid&interval=month`);
    expect(monthly.buckets).toEqual([
      { label: '2026-11', from: at('2026-11-01T00:00:00'), to: at('2026-12-01T00:00:00') },
      { label: '2026-12', from: at('2026-12-01T00:00:00'), to: at('2027-01-01T00:00:00') },
    ]);
    expect(monthly.series).toEqual([
      { key: 'HH-G1', saidi: [0, 30], saifi: [0, 1] },
      { key: 'HH-G2', saidi: [0, 30], saifi: [0, 1] },
      { key: 'TC-G1', saidi: [0, 360], saifi: [0, 17] },
    ]);
    expect(monthly.medDays.map((d) => d.day)).toEqual(['2026-12-18']);
    const december = (await report(`${range('2026-12-01T00:00:00', '2027-01-01T00:00:00')}&groupBy=grid`)).json<ReliabilityReport>();
    for (const row of december.rows) expect(monthly.series.find((s) => s.key === row.key)!.saidi[1]).toBe(row.saidi);

    const daily = await series(`${range('2026-12-17T00:00:00', '2026-12-19T00:00:00')}&interval=day`);
    expect(daily.buckets.map((b) => b.label)).toEqual(['2026-12-17', '2026-12-18']);
    expect(daily.series.find((s) => s.key === 'HH-G1')!.saidi).toEqual([30, 0]);
    const withMed = await series(`${range('2026-12-17T00:00:00', '2026-12-19T00:00:00')}&interval=day&includeMed=true`);
    expect(withMed.series.find((s) => s.key === 'HH-G1')!.saidi).toEqual([30, 400]);

    const tooLong = await h.host.inject({
      method: 'GET',
      url: `/v1/reports/reliability/series?${range('2026-01-01T00:00:00', '2026-12-01T00:00:00')}&interval=day`,
      headers: auth(READ_KEY),
    });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json<{ error: { message: string } }>().error.message).toContain('at most 93 days');
  });

  it('400 on a bad date, from ≥ to, an unknown groupBy; 401 without a key', async () => {
    for (const q of [
      'from=yesterday&to=2026-12-21T00:00:00Z',
      'from=2026-12-21T00:00:00Z&to=2026-12-01T00:00:00Z',
      'from=2026-12-21T00:00:00Z&to=2026-12-21T00:00:00Z',
      `${PERIOD}&groupBy=area`,
      `${PERIOD}&includeMed=yes`,
      'to=2026-12-21T00:00:00Z',
    ]) {
      const res = await report(q);
      expect(res.statusCode, q).toBe(400);
    }
    expect((await h.host.inject({ method: 'GET', url: `/v1/reports/reliability?${PERIOD}` })).statusCode).toBe(401);
    expect((await report(PERIOD, ADMIN_KEY)).statusCode).toBe(200);
  });
});

describe('late and redelivered events', () => {
  // January 2027, TQ-003 (TC-G1, 1 customer): one outage from 01-05 23:00 to 01-06 00:30 (90 min).
  // The day's SAIDI 90/5 = 18 is under the threshold (≈ 94): no major event day.
  const DAY5 = `from=${encodeURIComponent(at('2027-01-05T00:00:00'))}&to=${encodeURIComponent(at('2027-01-06T00:00:00'))}`;
  const DAY6 = `from=${encodeURIComponent(at('2027-01-06T00:00:00'))}&to=${encodeURIComponent(at('2027-01-07T00:00:00'))}`;
  const tc = async (query: string) => (await report(`${query}&groupBy=grid`)).json<ReliabilityReport>().rows.find((r) => r.key === 'TC-G1')!;

  it('a restoration arriving after the period closed counts once, clipped to the period; a redelivery or a second resolve changes nothing', async () => {
    const { workOrderId } = await call('TQ-003', '2027-01-05T23:00:00');
    // Still open when 01-05's report is taken: nothing to count yet.
    expect(await tc(DAY5)).toMatchObject({ customerInterruptions: 0, customerMinutes: 0 });

    const resolved = workOrderEvent(workOrderId, 'resolved', '2027-01-06T00:30:00');
    await publish(resolved);
    // 01-05: it started there — 1 interruption, 60 of its 90 minutes inside [01-05, 01-06).
    expect(await tc(DAY5)).toMatchObject({ customerInterruptions: 1, customerMinutes: 60, saidi: 60 });
    // 01-06: the other 30 minutes, no interruption (counted where it started).
    expect(await tc(DAY6)).toMatchObject({ customerInterruptions: 0, customerMinutes: 30, saidi: 30 });

    // The same event redelivered, a second resolve later, and the close: the figures stay.
    await publish(resolved, workOrderEvent(workOrderId, 'resolved', '2027-01-06T02:00:00'), workOrderEvent(workOrderId, 'closed', '2027-01-06T03:00:00'));
    expect(await tc(DAY5)).toMatchObject({ customerInterruptions: 1, customerMinutes: 60 });
    expect(await tc(DAY6)).toMatchObject({ customerInterruptions: 0, customerMinutes: 30 });
  });
});

it('a report time more than 2 h before the call is not taken as the outage’s start', async () => {
  const { incidentId, workOrderId } = await call('TQ-004', '2027-03-01T10:00:00', '2027-02-25T10:00:00');
  const { rows } = await h.db.pool.query<{ evidence_at: Date; opened_at: Date }>('SELECT evidence_at, opened_at FROM routing.incidents WHERE id = $1', [
    incidentId,
  ]);
  expect(rows[0]!.evidence_at).toEqual(rows[0]!.opened_at);
  await publish(workOrderEvent(workOrderId, 'resolved', '2027-03-01T10:30:00'));
});

describe('GET /v1/reports/response', () => {
  // February 2027, TQ-003 (TC-G1, urban: the fault plan's arrive window is 45 min):
  //   02-01 10:00 received, acknowledged 10:05, arrived 10:40 (deadline 10:45: on time), resolved 11:00
  //   02-02 10:00 received, acknowledged 10:15, arrived 11:00 (late), resolved 12:00; its ETR set by
  //         hand to 11:30 before that — restored after its ETR
  //   02-03 10:00 received, acknowledged 10:10, not arrived, its deadline still ahead of now: not due
  // MTTA (5 + 15 + 10) / 3 = 10 min; MTTR (60 + 120) / 2 = 90 min; on time 1 of 2 due = 0.5;
  // ETR accuracy: 02-01 restored 11:00 before its policy ETR, 02-02 not → 1 of 2 = 0.5.
  // TQ-003 had three incidents in the period: a repeat 台区.
  const FEB = `from=${encodeURIComponent(at('2027-02-01T00:00:00'))}&to=${encodeURIComponent(at('2027-02-04T00:00:00'))}`;

  it('MTTA, MTTR, arrivals on time, ETR accuracy per grid; repeat 台区; redeliveries and later repeats change nothing', async () => {
    const one = await call('TQ-003', '2027-02-01T10:00:00');
    expect(one.arriveDeadline).toBe(at('2027-02-01T10:45:00'));
    await publish(workOrderEvent(one.workOrderId, 'acknowledged', '2027-02-01T10:05:00'), workOrderEvent(one.workOrderId, 'arrived', '2027-02-01T10:40:00'));
    await publish(workOrderEvent(one.workOrderId, 'resolved', '2027-02-01T11:00:00'));

    const two = await call('TQ-003', '2027-02-02T10:00:00');
    const etr = await h.host.inject({
      method: 'PUT',
      url: `/v1/incidents/${two.incidentId}/etr`,
      headers: auth(ADMIN_KEY),
      payload: { etr: at('2027-02-02T11:30:00'), by: 'S-M3' },
    });
    expect(etr.statusCode).toBe(200);
    const ack2 = workOrderEvent(two.workOrderId, 'acknowledged', '2027-02-02T10:15:00');
    await publish(ack2, workOrderEvent(two.workOrderId, 'arrived', '2027-02-02T11:00:00'), workOrderEvent(two.workOrderId, 'resolved', '2027-02-02T12:00:00'));

    const three = await call('TQ-003', '2027-02-03T10:00:00');
    await publish(workOrderEvent(three.workOrderId, 'acknowledged', '2027-02-03T10:10:00'));

    const expected = {
      key: 'TC-G1',
      gridId: 'TC-G1',
      category: null,
      workOrders: 3,
      mtta: 10,
      mttr: 90,
      arrivalOnTime: 0.5,
      etrAccuracy: 0.5,
      incidentsRestored: 2,
    };
    const res = await h.host.inject({ method: 'GET', url: `/v1/reports/response?${FEB}`, headers: auth(READ_KEY) });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<ResponseReport>();
    expect(body.rows).toEqual([expected]);
    expect(body.repeatDistricts).toEqual([{ districtCode: 'TQ-003', gridId: 'TC-G1', incidents: 3, lon: null, lat: null }]);

    // The acknowledge redelivered, a second one later, a late arrival after the resolve: first times stay.
    await publish(
      ack2,
      workOrderEvent(two.workOrderId, 'acknowledged', '2027-02-02T10:50:00'),
      workOrderEvent(one.workOrderId, 'arrived', '2027-02-01T12:00:00'),
    );
    expect((await h.host.inject({ method: 'GET', url: `/v1/reports/response?${FEB}`, headers: auth(READ_KEY) })).json<ResponseReport>().rows).toEqual([
      expected,
    ]);

    const csv = await h.host.inject({ method: 'GET', url: `/v1/reports/response?${FEB}`, headers: { ...auth(READ_KEY), accept: 'text/csv' } });
    expect(csv.body).toBe('key,workOrders,mtta,mttr,arrivalOnTime,etrAccuracy,incidentsRestored\r\nTC-G1,3,10,90,0.5,0.5,2\r\n');
    expect(csv.headers['x-repeat-districts']).toBe('TQ-003:3');
    expect((await h.host.inject({ method: 'GET', url: `/v1/reports/response?${FEB}&groupBy=feeder`, headers: auth(READ_KEY) })).statusCode).toBe(400);
  });

  // Work orders in no incident are timed too (docs/architecture.md#reports), by category, in TC-G1:
  //   new_connection received 02-01 10:00 (office calendar: arrive within a working day), acknowledged
  //     10:30, arrived 15:00 (by its deadline)
  //   complaint received 02-01 09:00 (no arrive stage: not in arrivalOnTime), acknowledged 11:00
  // By grid and category the fault figures above stay as they were; by grid TC-G1 now has 5 work
  // orders: MTTA (5 + 15 + 10 + 30 + 120) / 5 = 36, MTTR 90 (the two resolved faults), on time
  // 2 of 3 due = 0.6667. The ETR figures are the incidents': under fault_repair.
  it('covers work orders in no incident, per grid and category; a redelivered dispatch or event changes nothing', async () => {
    const request = (category: 'new_connection' | 'complaint', local: string) =>
      requestEvent({ receivedAt: at(local), category, location: { districtCode: 'TQ-004' } });
    const connection = request('new_connection', '2027-02-01T10:00:00');
    const complaint = request('complaint', '2027-02-01T09:00:00');
    const [newConnection, complaintOrder] = [assigned((await h.send(connection))[0]), assigned((await h.send(complaint))[0])];
    expect(newConnection.incidentId).toBeNull();
    expect(newConnection.role).toBeUndefined();
    expect(Date.parse(newConnection.sla.deadlines.arrive!)).toBeGreaterThan(Date.parse(at('2027-02-01T15:00:00')));
    expect(complaintOrder.sla.deadlines.arrive).toBeUndefined();
    const events = [
      workOrderEvent(newConnection.workOrderId, 'acknowledged', '2027-02-01T10:30:00'),
      workOrderEvent(newConnection.workOrderId, 'arrived', '2027-02-01T15:00:00'),
      workOrderEvent(complaintOrder.workOrderId, 'acknowledged', '2027-02-01T11:00:00'),
    ];
    await publish(...events);

    const response = async (groupBy: string) =>
      (await h.host.inject({ method: 'GET', url: `/v1/reports/response?${FEB}&groupBy=${groupBy}`, headers: auth(READ_KEY) })).json<ResponseReport>().rows;
    const fault = {
      key: 'TC-G1/fault_repair',
      gridId: 'TC-G1',
      category: 'fault_repair',
      workOrders: 3,
      mtta: 10,
      mttr: 90,
      arrivalOnTime: 0.5,
      etrAccuracy: 0.5,
      incidentsRestored: 2,
    };
    const byGridAndCategory = [
      {
        key: 'TC-G1/complaint',
        gridId: 'TC-G1',
        category: 'complaint',
        workOrders: 1,
        mtta: 120,
        mttr: null,
        arrivalOnTime: null,
        etrAccuracy: null,
        incidentsRestored: 0,
      },
      fault,
      {
        key: 'TC-G1/new_connection',
        gridId: 'TC-G1',
        category: 'new_connection',
        workOrders: 1,
        mtta: 30,
        mttr: null,
        arrivalOnTime: 1,
        etrAccuracy: null,
        incidentsRestored: 0,
      },
    ];
    expect(await response('grid_category')).toEqual(byGridAndCategory);
    expect((await response('category')).map((r) => [r.key, r.gridId, r.category, r.workOrders])).toEqual([
      ['complaint', null, 'complaint', 1],
      ['fault_repair', null, 'fault_repair', 3],
      ['new_connection', null, 'new_connection', 1],
    ]);
    const byGrid = {
      key: 'TC-G1',
      gridId: 'TC-G1',
      category: null,
      workOrders: 5,
      mtta: 36,
      mttr: 90,
      arrivalOnTime: 0.6667,
      etrAccuracy: 0.5,
      incidentsRestored: 2,
    };
    expect(await response('grid')).toEqual([byGrid]);

    // The requests routed again (a redelivery) and the crew events again: the same figures.
    await h.send(connection, complaint);
    await publish(...events);
    expect(await response('grid_category')).toEqual(byGridAndCategory);
    expect(await response('grid')).toEqual([byGrid]);

    // Whole months of GD_TIME_ZONE read the monthly rollup (routing.work_order_months): the same
    // figures, the third fault's arrival (deadline still ahead of now) not due there either.
    const FEBRUARY = `from=${encodeURIComponent(at('2027-02-01T00:00:00'))}&to=${encodeURIComponent(at('2027-03-01T00:00:00'))}`;
    const monthly = async (groupBy: string) =>
      (await h.host.inject({ method: 'GET', url: `/v1/reports/response?${FEBRUARY}&groupBy=${groupBy}`, headers: auth(READ_KEY) })).json<ResponseReport>().rows;
    expect(await monthly('grid_category')).toEqual(byGridAndCategory);
    expect(await monthly('grid')).toEqual([byGrid]);
    const rollup = async () =>
      (
        await h.db.pool
          .query(`SELECT category, work_orders, acknowledged, resolved, with_deadline, arrived_with_deadline, on_time FROM routing.work_order_months
                               WHERE month = '2027-02-01' AND grid_id = 'TC-G1' ORDER BY category`)
      ).rows;
    expect(await rollup()).toEqual([
      { category: 'complaint', work_orders: 1, acknowledged: 1, resolved: 0, with_deadline: 0, arrived_with_deadline: 0, on_time: 0 },
      { category: 'fault_repair', work_orders: 3, acknowledged: 3, resolved: 2, with_deadline: 3, arrived_with_deadline: 2, on_time: 1 },
      { category: 'new_connection', work_orders: 1, acknowledged: 1, resolved: 0, with_deadline: 1, arrived_with_deadline: 1, on_time: 1 },
    ]);
    // A late resolve of the new connection (two days on), delivered twice: counted once, on both paths.
    const lateResolve = workOrderEvent(newConnection.workOrderId, 'resolved', '2027-02-03T10:00:00');
    await publish(lateResolve);
    await publish(lateResolve);
    const connectionRow = (rows: ResponseReport['rows']) => rows.find((r) => r.category === 'new_connection');
    expect(connectionRow(await monthly('grid_category'))).toMatchObject({ workOrders: 1, mttr: 2880 });
    expect(connectionRow(await response('grid_category'))).toMatchObject({ workOrders: 1, mttr: 2880 });
    expect((await rollup())[2]).toMatchObject({ resolved: 1 });
    const direct = (via: 'auto' | 'rows') =>
      reportResponse(
        h.db.pool,
        { from: at('2027-02-01T00:00:00'), to: at('2027-03-01T00:00:00'), groupBy: 'grid_category' },
        { now: new Date(), timeZone: 'Asia/Shanghai', via },
      );
    expect((await direct('auto')).rows).toEqual((await direct('rows')).rows);

    const csv = await h.host.inject({
      method: 'GET',
      url: `/v1/reports/response?${FEB}&groupBy=grid_category`,
      headers: { ...auth(READ_KEY), accept: 'text/csv' },
    });
    expect(csv.body.split('\r\n')[0]).toBe('key,gridId,category,workOrders,mtta,mttr,arrivalOnTime,etrAccuracy,incidentsRestored');
    expect(csv.body.split('\r\n')[3]).toBe('TC-G1/new_connection,TC-G1,new_connection,1,30,2880,1,,0');
  });
});

describe('customers served', () => {
  it('follows an import of customers (routing.district_customers is counted again)', async () => {
    const before = (await report(`${PERIOD}&groupBy=grid`)).json<ReliabilityReport>().rows.find((r) => r.key === 'TC-G1')!;
    expect(before.customersServed).toBe(1);
    const imported = await importData(h.db.pool, {
      customers: {
        text: toCsv('customers', [{ accountNo: '3000000099', districtCode: 'TQ-004', classes: ['resident' as const], name: '吴九', phone: '13800000099' }]),
      },
    });
    expect(imported.ok).toBe(true);
    const after = (await report(`${PERIOD}&groupBy=grid`)).json<ReliabilityReport>().rows.find((r) => r.key === 'TC-G1')!;
    // 17 interruptions and 300 customer-minutes over 2 customers now: SAIFI 8.5, SAIDI 150.
    expect(after).toMatchObject({ customersServed: 2, customerInterruptions: 17, customerMinutes: 300, saifi: 8.5, saidi: 150 });
  });
});

it('documents the reports in the OpenAPI document, with their query parameters', async () => {
  const doc = (await h.host.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, { get?: { parameters?: { name: string }[] } }> }>();
  for (const path of ['/v1/reports/reliability', '/v1/reports/reliability/series', '/v1/reports/response']) expect(doc.paths[path]?.get, path).toBeDefined();
  expect(doc.paths['/v1/reports/reliability']!.get!.parameters!.map((p) => p.name).sort()).toEqual(['from', 'groupBy', 'includeMed', 'to']);
  expect(doc.paths['/v1/reports/reliability/series']!.get!.parameters!.map((p) => p.name).sort()).toEqual(['from', 'groupBy', 'includeMed', 'interval', 'to']);
  const groupBy = doc.paths['/v1/reports/response']!.get!.parameters!.find((p) => p.name === 'groupBy') as { schema?: { enum?: string[] } } | undefined;
  expect(groupBy?.schema?.enum).toEqual(['grid', 'category', 'grid_category']);
});
