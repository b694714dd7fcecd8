import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GridView } from '@griddispatch/contracts';
import { toCsv } from '@griddispatch/grid';
import { fixtureCounty } from '../testing/fixture-county.ts';
import { ADMIN_KEY, READ_KEY, requestEvent, startHarness, type Harness } from '../testing/harness.ts';
import { importData } from '../use-cases/import-data.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

describe('GET /v1/grids', () => {
  it('lists every grid with its 台区, polygon and staff (docs/architecture.md#http-api)', async () => {
    const res = await h.host.inject({ method: 'GET', url: '/v1/grids', headers: auth(READ_KEY) });
    expect(res.statusCode).toBe(200);
    const items = res.json<{ items: GridView[] }>().items;
    expect(items.map((g) => g.id)).toEqual(['HH-A', 'HH-G1', 'HH-G2', 'TC-A', 'TC-G1']);
    for (const g of items) expect(GridView.safeParse(g).success).toBe(true);
    const g1 = items.find((g) => g.id === 'HH-G1');
    expect(g1).toMatchObject({ name: '后湖1号网格', kind: 'district', parentId: 'HH-A', areaType: 'rural', communityCode: null, districts: ['TQ-001'] });
    expect(g1?.polygon).toMatchObject({ type: 'Polygon' });
    expect(g1?.staff).toEqual([
      { id: 'S-M1', name: '张经理', role: 'manager' },
      { id: 'S-A1', name: '李协管', role: 'assistant' },
      { id: 'S-V1', name: '王主任', role: 'supervisor' },
    ]);
    expect(items.find((g) => g.id === 'TC-G1')?.districts).toEqual(['TQ-003', 'TQ-004']);
  });

  it('filters by kind and parent', async () => {
    const res = await h.host.inject({ method: 'GET', url: '/v1/grids?kind=district&parentId=HH-A', headers: auth(READ_KEY) });
    expect(res.json<{ items: GridView[] }>().items.map((g) => g.id)).toEqual(['HH-G1', 'HH-G2']);
  });

  it('GET /v1/grids/:id shows one grid; unknown → 404; no key → 401', async () => {
    const one = await h.host.inject({ method: 'GET', url: '/v1/grids/HH-A', headers: auth(READ_KEY) });
    expect(one.statusCode).toBe(200);
    expect(one.json<GridView>()).toMatchObject({ id: 'HH-A', kind: 'area', communityCode: '421223100001', districts: [] });
    expect(one.json<GridView>().staff.map((s) => s.role)).toEqual(['repair_crew', 'repair_crew', 'station_head']);
    const missing = await h.host.inject({ method: 'GET', url: '/v1/grids/NOPE', headers: auth(READ_KEY) });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'not_found' } });
    expect((await h.host.inject({ method: 'GET', url: '/v1/grids' })).statusCode).toBe(401);
  });
});

describe('unroutable requests: visible, and re-routable after the data is fixed', () => {
  it('lists the request, re-routes it once its account is imported, and refuses a second re-route', async () => {
    const ev = requestEvent({ receivedAt: '2026-11-23T02:00:00.000Z', customer: { accountNo: '3000000100' } });
    const [out] = await h.send(ev);
    expect(out?.type).toBe('unroutable');

    const list = await h.host.inject({ method: 'GET', url: '/v1/routing/unroutable', headers: auth(READ_KEY) });
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toEqual([
      { requestId: ev.data.id, category: 'fault_repair', reason: expect.stringContaining('3000000100'), routedAt: expect.any(String) },
    ]);

    const url = `/v1/requests/${ev.data.id}/reroute`;
    expect((await h.host.inject({ method: 'POST', url, headers: auth(READ_KEY) })).statusCode).toBe(403);
    const still = await h.host.inject({ method: 'POST', url, headers: auth(ADMIN_KEY) });
    expect(still.statusCode).toBe(422);
    expect(still.json()).toMatchObject({ error: { code: 'still_unroutable' } });

    // The station adds the missing account.
    const county = fixtureCounty();
    county.customers.push({ accountNo: '3000000100', districtCode: 'TQ-002', classes: ['aquaculture'] });
    expect((await importData(h.db.pool, { customers: { text: toCsv('customers', county.customers) } })).ok).toBe(true);

    const before = h.outputs.length;
    const res = await h.host.inject({ method: 'POST', url, headers: auth(ADMIN_KEY) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: ev.data.id, status: 'assigned', gridId: 'HH-G2', resolvedBy: 'account' });
    await h.settle();
    const emitted = h.outputs.slice(before);
    expect(emitted).toHaveLength(1);
    expect(emitted[0]?.type).toBe('assigned');
    if (emitted[0]?.type === 'assigned') {
      expect(emitted[0].key).toBe('HH-G2');
      expect(emitted[0].data.sla.policy).toBe('aquaculture-circle');
      // The SLA still counts from the original receipt.
      expect(Date.parse(emitted[0].data.sla.deadlines.arrive!) - Date.parse(ev.data.receivedAt)).toBe(30 * 60_000);
    }

    const again = await h.host.inject({ method: 'POST', url, headers: auth(ADMIN_KEY) });
    expect(again.statusCode).toBe(409);
    expect((await h.host.inject({ method: 'GET', url: '/v1/routing/unroutable', headers: auth(READ_KEY) })).json().items).toEqual([]);
  });

  it('an operator may name the grid (resolvedBy manual); unknown requests and grids are refused', async () => {
    const ev = requestEvent({ receivedAt: '2026-11-23T03:00:00.000Z', category: 'complaint', location: { lon: 100, lat: 20 } });
    expect((await h.send(ev))[0]?.type).toBe('unroutable');
    const url = `/v1/requests/${ev.data.id}/reroute`;
    const badGrid = await h.host.inject({ method: 'POST', url, headers: auth(ADMIN_KEY), payload: { gridId: 'NOPE' } });
    expect(badGrid.statusCode).toBe(422);
    const res = await h.host.inject({ method: 'POST', url, headers: auth(ADMIN_KEY), payload: { gridId: 'TC-G1' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ gridId: 'TC-G1', resolvedBy: 'manual' });
    const missing = await h.host.inject({ method: 'POST', url: '/v1/requests/never-seen/reroute', headers: auth(ADMIN_KEY) });
    expect(missing.statusCode).toBe(404);
  });
});
