import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Topics, serializeEvent } from '@griddispatch/contracts';
import { HH_VILLAGE } from './testing/fixture-county.ts';
import { assigned, requestEvent, startHarness, type Harness } from './testing/harness.ts';

// Every resolution path end to end: request.received on the in-process bus → grid-routing with a
// real PostgreSQL → dispatch.assigned / dispatch.unroutable as a subscriber sees them.
// A fault call joins its 台区's open incident whatever its age (open until restored): before each
// test every incident is closed, as if crews had restored them, so tests never share one.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
beforeEach(async () => {
  await h.db.pool.query("UPDATE routing.incidents SET status = 'closed'");
});
afterAll(async () => {
  await h?.close();
});

const at = (isoLocal: string) => new Date(`${isoLocal}+08:00`).toISOString();

describe('resolution paths', () => {
  it('account → 台区 → grid, with the customer classes from the registry (aquaculture → 30-minute circle)', async () => {
    const receivedAt = at('2026-11-02T10:00:00');
    const [out] = await h.send(requestEvent({ receivedAt, customer: { accountNo: '3000000002' } }));
    const d = assigned(out);
    expect(out?.key).toBe('HH-G2');
    expect(d.grid).toEqual({ id: 'HH-G2', name: '后湖2号网格', kind: 'district', areaType: 'rural', areaId: 'HH-A' });
    expect(d.resolvedBy).toBe('account');
    expect(d.districtCode).toBe('TQ-002');
    expect(d.customerClasses).toEqual(['aquaculture']);
    expect(d.sla.policy).toBe('aquaculture-circle');
    expect(Date.parse(d.sla.deadlines.arrive!) - Date.parse(receivedAt)).toBe(30 * 60_000);
  });

  it('the account wins over a 台区 code and a point given with it', async () => {
    const [out] = await h.send(
      requestEvent({
        receivedAt: at('2026-11-03T10:00:00'),
        category: 'consultation',
        customer: { accountNo: '3000000001' },
        location: { districtCode: 'TQ-003', lon: 114.015, lat: 30.01 },
      }),
    );
    expect(assigned(out).grid.id).toBe('HH-G1');
    expect(assigned(out).resolvedBy).toBe('account');
  });

  it('台区 code → grid; an unknown account falls through to it', async () => {
    const [out] = await h.send(
      requestEvent({ receivedAt: at('2026-11-04T10:00:00'), category: 'billing', customer: { accountNo: '9999999999' }, location: { districtCode: 'TQ-001' } }),
    );
    const d = assigned(out);
    expect(d.grid.id).toBe('HH-G1');
    expect(d.resolvedBy).toBe('district');
    expect(d.districtCode).toBe('TQ-001');
  });

  it('lon/lat inside a polygon → the most specific grid there (rural fault: 90-minute arrival)', async () => {
    const receivedAt = at('2026-11-05T10:00:00');
    const [out] = await h.send(requestEvent({ receivedAt, location: { lon: 114.005, lat: 30.01 } }));
    const d = assigned(out);
    expect(d.grid.id).toBe('HH-G1');
    expect(d.resolvedBy).toBe('point');
    expect(d.districtCode).toBeNull();
    expect(d.sla.policy).toBe('fault-rural');
    expect(Date.parse(d.sla.deadlines.arrive!) - Date.parse(receivedAt)).toBe(90 * 60_000);
  });

  it('a point just outside every polygon → the nearest grid within GD_NEAREST_METERS', async () => {
    // 0.003° of longitude east of HH-G2 at latitude 30 ≈ 289 m.
    const [out] = await h.send(requestEvent({ receivedAt: at('2026-11-06T10:00:00'), category: 'consultation', location: { lon: 114.023, lat: 30.01 } }));
    expect(assigned(out).grid.id).toBe('HH-G2');
    expect(assigned(out).resolvedBy).toBe('nearest');
  });

  it('community code → area grid (a village listed in communities.csv)', async () => {
    const [out] = await h.send(
      requestEvent({ receivedAt: at('2026-11-07T10:00:00'), category: 'service_request', location: { communityCode: HH_VILLAGE, lon: 114.5, lat: 30.5 } }),
    );
    const d = assigned(out);
    expect(d.grid.id).toBe('HH-A');
    expect(d.grid.kind).toBe('area');
    expect(d.resolvedBy).toBe('community');
  });

  it('nothing resolves → dispatch.unroutable to the fallback desk, keyed by request id, with the reason', async () => {
    const ev = requestEvent({
      receivedAt: at('2026-11-08T10:00:00'),
      customer: { accountNo: '1234567890' },
      location: { lon: 114.05, lat: 30.01, communityCode: '421223999999' },
    });
    const [out] = await h.send(ev);
    expect(out?.type).toBe('unroutable');
    if (out?.type !== 'unroutable') return;
    expect(out.key).toBe(ev.data.id);
    expect(out.data.fallbackDesk).toBe('station-desk');
    expect(out.data.request).toEqual(ev.data);
    expect(out.data.reason).toContain('1234567890');
    expect(out.data.reason).toMatch(/421223999999/);
  });
});

describe('people on duty (Asia/Shanghai, shifts across midnight)', () => {
  // HH-G1: manager 08:30–17:30 Mon–Fri, assistant 17:30–22:00 daily; HH-A crew: night 22:00–08:30
  // daily (S-C1), day 08:30–17:30 Mon–Fri (S-C2). 2026-11-09 is a Monday.
  const consult = (local: string) => requestEvent({ receivedAt: at(local), category: 'consultation', location: { districtCode: 'TQ-001' } });

  it('manager in the day, assistant in the evening, night crew after 22:00 and until 08:30 the next morning', async () => {
    const outs = await h.send(
      consult('2026-11-09T10:00:00'),
      consult('2026-11-09T21:59:00'),
      consult('2026-11-09T22:00:00'),
      consult('2026-11-10T00:30:00'),
      consult('2026-11-10T08:29:00'),
      consult('2026-11-10T08:30:00'),
    );
    expect(outs.map((o) => assigned(o).assignees.map((a) => `${a.staffId}:${a.role}`))).toEqual([
      ['S-M1:manager'],
      ['S-A1:assistant'],
      ['S-C1:repair_crew'],
      ['S-C1:repair_crew'],
      ['S-C1:repair_crew'],
      ['S-M1:manager'],
    ]);
  });

  it('calls of one grid in one consumed batch each get who is on duty at their own minute (21:59 and 22:00 apart)', async () => {
    const calls = [
      '2026-11-23T10:00:00',
      '2026-11-23T10:00:30',
      '2026-11-23T21:59:00',
      '2026-11-23T22:00:00',
      '2026-11-24T08:29:59',
      '2026-11-24T08:30:00',
    ].map(consult);
    const before = h.outputs.length;
    // One key: one partition, so the bus hands the six over as one batch, in order.
    await h.bus.publish(
      Topics.requestsReceived,
      calls.map((event) => ({ key: 'one-batch', value: serializeEvent(event) })),
    );
    await h.settle();
    expect(h.outputs.slice(before).map((o) => assigned(o).assignees.map((a) => a.staffId))).toEqual([
      ['S-M1'],
      ['S-M1'],
      ['S-A1'],
      ['S-C1'],
      ['S-C1'],
      ['S-M1'],
    ]);
  });

  it('Sunday night’s shift covers Monday 03:00; the Monday day manager is not on yet', async () => {
    const [out] = await h.send(consult('2026-11-16T03:00:00'));
    expect(assigned(out).assignees.map((a) => a.staffId)).toEqual(['S-C1']);
  });

  it('a fault repair also alerts the crew on duty; contacts list the grid’s and the area’s people with phones', async () => {
    const [out] = await h.send(requestEvent({ receivedAt: at('2026-11-11T10:00:00'), location: { districtCode: 'TQ-001' } }));
    const d = assigned(out);
    expect(d.assignees.map((a) => `${a.staffId}:${a.role}`)).toEqual(['S-M1:manager', 'S-C2:repair_crew']);
    expect(d.contacts.map((c) => `${c.staffId}:${c.role}`)).toEqual([
      'S-M1:manager',
      'S-A1:assistant',
      'S-V1:supervisor',
      'S-C1:repair_crew',
      'S-C2:repair_crew',
      'S-H1:station_head',
    ]);
    expect(d.contacts.find((c) => c.role === 'supervisor')?.phone).toBe('13900000003');
  });

  it('vulnerable customers are flagged for a home visit; request and registry classes are merged', async () => {
    const [out] = await h.send(
      requestEvent({ receivedAt: at('2026-11-12T10:00:00'), category: 'service_request', customer: { accountNo: '3000000003', classes: ['important'] } }),
    );
    const d = assigned(out);
    expect(d.homeVisit).toBe(true);
    expect(d.customerClasses).toEqual(['important', 'resident', 'vulnerable']);
    expect(d.grid.areaType).toBe('urban');
  });
});

describe('trouble-call grouping', () => {
  const fault = (local: string, districtCode: string) => requestEvent({ receivedAt: at(local), location: { districtCode } });

  it('fault calls from one 台区 join its open incident whatever their age; after it is restored a call opens a new one', async () => {
    const outs = (await h.send(fault('2026-11-17T10:00:00', 'TQ-001'), fault('2026-11-17T10:05:00', 'TQ-001'), fault('2026-11-17T13:10:00', 'TQ-001'))).map(
      assigned,
    );
    expect(outs.map((d) => d.incidentSize)).toEqual([1, 2, 3]);
    expect(outs.map((d) => d.role)).toEqual(['primary', 'merged', 'merged']);
    expect(new Set(outs.map((d) => d.incidentId)).size).toBe(1);
    // Every call carries the incident's one ETR, set when it opened.
    expect(new Set(outs.map((d) => d.etr)).size).toBe(1);
    await h.db.pool.query("UPDATE routing.incidents SET status = 'restored', restored_at = now() WHERE id = $1", [outs[0]?.incidentId]);
    const [after] = (await h.send(fault('2026-11-17T13:20:00', 'TQ-001'))).map(assigned);
    expect(after?.incidentId).not.toBe(outs[0]?.incidentId);
    expect(after?.incidentSize).toBe(1);
    expect(after?.role).toBe('primary');
  });

  it('a burst consumed in batches: each call dispatched once, one incident per 台区 with the calls counted, a redelivery or re-publication changes nothing', async () => {
    const districts = ['TQ-001', 'TQ-002', 'TQ-003'];
    const calls = Array.from({ length: 90 }, (_, i) => fault(`2026-11-26T10:${String(i % 10).padStart(2, '0')}:00`, districts[i % 3] as string));
    const first = calls[0]!;
    const republished = { ...first, id: randomUUID() };
    const before = h.outputs.length;
    // One publish: the bus hands the consumer whole batches of one partition.
    await h.bus.publish(
      Topics.requestsReceived,
      [...calls, first, republished].map((event) => ({ key: event.data.id, value: serializeEvent(event) })),
    );
    await h.settle();
    const outs = h.outputs.slice(before).map(assigned);
    expect(outs.map((d) => d.workOrderId).sort()).toEqual(calls.map((c) => c.data.id).sort());
    const byIncident = new Map<string, number[]>();
    for (const d of outs) byIncident.set(d.incidentId as string, [...(byIncident.get(d.incidentId as string) ?? []), d.incidentSize as number]);
    expect(byIncident.size).toBe(3);
    for (const sizes of byIncident.values()) expect(sizes.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('a fault call from another 台区 of the same grid is another incident; non-fault requests join none', async () => {
    const [a, b, c] = (
      await h.send(
        fault('2026-11-18T10:00:00', 'TQ-003'),
        fault('2026-11-18T10:01:00', 'TQ-004'),
        requestEvent({ receivedAt: at('2026-11-18T10:02:00'), category: 'billing', location: { districtCode: 'TQ-003' } }),
      )
    ).map(assigned);
    expect(a?.grid.id).toBe(b?.grid.id);
    expect(a?.incidentId).not.toBe(b?.incidentId);
    expect(c?.incidentId).toBeNull();
    expect(c?.incidentSize).toBeUndefined();
  });

  it('many calls raise the incident’s urgency: the 5th call and later ones are urgent', async () => {
    const calls = ['10:00', '10:02', '10:04', '10:06', '10:08', '10:10'].map((t) => fault(`2026-11-19T${t}:00`, 'TQ-002'));
    const outs = (await h.send(...calls)).map(assigned);
    expect(outs.map((d) => d.urgency)).toEqual(['normal', 'normal', 'normal', 'normal', 'urgent', 'urgent']);
    expect(new Set(outs.map((d) => d.incidentId)).size).toBe(1);
    expect(outs.at(-1)?.incidentSize).toBe(6);
  });
});

describe('at-least-once delivery', () => {
  it('a redelivered event emits nothing new; the same request under a new event id neither', async () => {
    const ev = requestEvent({ receivedAt: at('2026-11-20T10:00:00'), category: 'consultation', location: { districtCode: 'TQ-001' } });
    const first = await h.send(ev);
    expect(first).toHaveLength(1);
    expect(await h.send(ev)).toHaveLength(0);
    const republished = { ...ev, id: `${ev.id}-again` };
    await h.bus.publish(Topics.requestsReceived, [{ key: ev.data.id, value: serializeEvent(republished) }]);
    await h.settle();
    expect(h.outputs.filter((o) => o.data.workOrderId === ev.data.id)).toHaveLength(1);
    const { rows } = await h.db.pool.query('SELECT count(*)::int AS n FROM routing.routed_requests WHERE request_id = $1', [ev.data.id]);
    expect(rows[0].n).toBe(1);
  });

  it('carries the incoming trace context into dispatch.assigned', async () => {
    const ev = {
      ...requestEvent({ receivedAt: at('2026-11-21T10:00:00'), category: 'consultation', location: { districtCode: 'TQ-001' } }),
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    };
    const [out] = await h.send(ev);
    expect(out?.event.traceparent).toBe(ev.traceparent);
    expect(out?.event.subject).toBe(ev.data.id);
    expect(out?.event.source).toBe('/griddispatch/grid-routing');
  });
});
