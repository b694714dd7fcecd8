import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Incident } from '@griddispatch/contracts';
import { at, closeAllIncidents, fault, importFeederDistricts, incidentEventsOf } from '../testing/incident-fixture.ts';
import { ADMIN_KEY, READ_KEY, TC_READ_KEY, TC_WRITE_KEY, assigned, startHarness, type Harness } from '../testing/harness.ts';
import { inStormMode } from '../use-cases/incidents.ts';

// GET /v1/incidents, GET /v1/incidents/:id, PUT /v1/incidents/:id/etr, GET/PUT /v1/storm.

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
  await h.db.pool.query('DELETE FROM routing.storm_mode');
});

const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const HOUR = 3_600_000;
const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

async function get(url: string, key = READ_KEY) {
  return h.host.inject({ method: 'GET', url, headers: auth(key) });
}
async function put(url: string, body: unknown, key = ADMIN_KEY) {
  return h.host.inject({ method: 'PUT', url, headers: auth(key), payload: body as Record<string, unknown> });
}

describe('GET /v1/incidents', () => {
  it('one incident by id (the contract), 404 for an unknown id, 401 without a key', async () => {
    const [d] = (await h.send(fault('2026-12-20T10:00:00', 'TQ-003'))).map(assigned);
    const res = await get(`/v1/incidents/${d!.incidentId}`);
    expect(res.statusCode).toBe(200);
    const incident = Incident.parse(res.json());
    expect(incident).toMatchObject({
      id: d!.incidentId,
      status: 'dispatched',
      districtCodes: ['TQ-003'],
      callCount: 1,
      primaryRequestId: d!.workOrderId,
      etr: d!.etr,
    });
    expect((await get('/v1/incidents/no-such-incident')).statusCode).toBe(404);
    expect((await h.host.inject({ method: 'GET', url: `/v1/incidents/${d!.incidentId}` })).statusCode).toBe(401);
  });

  it('lists newest first with status, grid and feeder filters and a keyset cursor', async () => {
    const outs = (await h.send(fault('2026-12-21T10:00:00', 'TQ-003'), fault('2026-12-21T10:10:00', 'TQ-004'), fault('2026-12-21T10:20:00', 'TQ-001'))).map(
      assigned,
    );
    const ids = outs.map((d) => d.incidentId!);
    const first = await get('/v1/incidents?status=dispatched&limit=2');
    expect(first.statusCode).toBe(200);
    const page1 = first.json<{ items: Incident[]; nextCursor: string | null }>();
    expect(page1.items.map((i) => i.id)).toEqual([ids[2], ids[1]]);
    expect(page1.nextCursor).toBeTruthy();
    const page2 = (await get(`/v1/incidents?status=dispatched&limit=2&cursor=${page1.nextCursor}`)).json<{ items: Incident[]; nextCursor: string | null }>();
    expect(page2.items.map((i) => i.id)).toEqual([ids[0]]);
    expect(page2.nextCursor).toBeNull();

    const tc = (await get('/v1/incidents?status=dispatched&gridId=TC-G1')).json<{ items: Incident[] }>();
    expect(tc.items.map((i) => i.id)).toEqual([ids[1], ids[0]]);
    const feeder = (await get('/v1/incidents?status=dispatched&feederCode=HH-10kV-01')).json<{ items: Incident[] }>();
    expect(feeder.items.map((i) => i.id)).toEqual([ids[2]]);
    expect((await get('/v1/incidents?status=nonsense')).statusCode).toBe(400);
    expect((await get('/v1/incidents?cursor=not-a-cursor')).statusCode).toBe(400);
    expect((await get('/v1/incidents?unknown=1')).statusCode).toBe(400);
  });
});

describe('GET /v1/incidents with a key limited to grids', () => {
  it('lists only incidents of its area grid and the grids under it; another grid is 404 by id and 403 as a filter', async () => {
    const [tc, hh] = (await h.send(fault('2026-12-23T10:00:00', 'TQ-003'), fault('2026-12-23T10:10:00', 'TQ-001'))).map(assigned);
    const listed = await get('/v1/incidents?status=dispatched', TC_READ_KEY);
    expect(listed.statusCode).toBe(200);
    expect(listed.json<{ items: Incident[] }>().items.map((i) => i.id)).toEqual([tc!.incidentId]);
    expect((await get(`/v1/incidents/${tc!.incidentId}`, TC_READ_KEY)).statusCode).toBe(200);
    const foreign = await get(`/v1/incidents/${hh!.incidentId}`, TC_READ_KEY);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json()).toEqual({ error: { code: 'not_found', message: `no incident ${hh!.incidentId}` } });
    const filtered = await get('/v1/incidents?gridId=HH-G1', TC_READ_KEY);
    expect(filtered.statusCode).toBe(403);
    expect(filtered.json()).toMatchObject({ error: { code: 'grid_not_allowed' } });
    // Nor set another grid's ETR (404, nothing changed), while its own grid's is set.
    const etr = { etr: at('2026-12-23T18:00:00'), by: 'tc-field' };
    expect((await put(`/v1/incidents/${hh!.incidentId}/etr`, etr, TC_WRITE_KEY)).statusCode).toBe(404);
    expect((await get(`/v1/incidents/${hh!.incidentId}`)).json<Incident>().etrSource).not.toBe('manual');
    expect((await put(`/v1/incidents/${tc!.incidentId}/etr`, etr, TC_WRITE_KEY)).statusCode).toBe(200);
    // Nor does it see other grids' outlines and staff, or the reports and the unroutable desk, which span every grid.
    const grids = (await get('/v1/grids', TC_READ_KEY)).json<{ items: { id: string }[] }>().items.map((g) => g.id);
    expect(grids.sort()).toEqual(['TC-A', 'TC-G1']);
    expect((await get('/v1/grids/HH-G1', TC_READ_KEY)).statusCode).toBe(404);
    expect((await get('/v1/grids/TC-G1', TC_READ_KEY)).statusCode).toBe(200);
    for (const url of [
      '/v1/reports/response?from=2026-12-01T00:00:00Z&to=2026-12-31T00:00:00Z',
      '/v1/reports/reliability/series?from=2026-12-01T00:00:00Z&to=2026-12-31T00:00:00Z',
      '/v1/routing/unroutable',
    ]) {
      expect((await get(url, TC_READ_KEY)).json(), url).toMatchObject({ error: { code: 'grid_not_allowed' } });
    }
    // A key without grids still sees both.
    expect((await get('/v1/incidents?status=dispatched')).json<{ items: Incident[] }>().items.map((i) => i.id)).toEqual([hh!.incidentId, tc!.incidentId]);
  });
});

describe('PUT /v1/incidents/:id/etr', () => {
  it('sets a manual ETR (incident.updated, change etr); 403 without workorders:write, 404 unknown, 409 once restored', async () => {
    const [d] = (await h.send(fault('2026-12-22T10:00:00', 'TQ-003'))).map(assigned);
    const id = d!.incidentId!;
    const etr = at('2026-12-22T18:00:00');
    expect((await put(`/v1/incidents/${id}/etr`, { etr, by: 'dispatcher-7' }, READ_KEY)).statusCode).toBe(403);
    const res = await put(`/v1/incidents/${id}/etr`, { etr, by: 'dispatcher-7', reason: 'transformer replacement' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, etr: new Date(etr).toISOString(), etrSource: 'manual' });
    await h.settle();
    expect(incidentEventsOf(h, id).at(-1)?.data).toMatchObject({ change: 'etr', etrSource: 'manual', etr: new Date(etr).toISOString() });
    // Later calls are told the hand-set ETR.
    const [later] = (await h.send(fault('2026-12-22T10:30:00', 'TQ-003'))).map(assigned);
    expect(later?.etr).toBe(new Date(etr).toISOString());

    expect((await put('/v1/incidents/no-such-incident/etr', { etr, by: 'x' })).statusCode).toBe(404);
    expect((await put(`/v1/incidents/${id}/etr`, { etr: 'tomorrow', by: 'x' })).statusCode).toBe(400);
    await h.db.pool.query("UPDATE routing.incidents SET status = 'restored', restored_at = now() WHERE id = $1", [id]);
    const conflict = await put(`/v1/incidents/${id}/etr`, { etr, by: 'x' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({ error: { code: 'incident_not_open' } });
  });
});

describe('storm mode', () => {
  it('rescales the policy ETRs of open incidents in the grids named; a manual ETR wins; new incidents open with the factor; off restores them', async () => {
    const [tc, manual, hh] = (
      await h.send(fault('2026-12-23T10:00:00', 'TQ-003'), fault('2026-12-23T10:05:00', 'TQ-004'), fault('2026-12-23T10:10:00', 'TQ-001'))
    ).map(assigned);
    const manualEtr = at('2026-12-23T20:00:00');
    expect((await put(`/v1/incidents/${manual!.incidentId}/etr`, { etr: manualEtr, by: 'dispatcher-7' })).statusCode).toBe(200);

    expect((await put('/v1/storm', { gridIds: ['TC-G1'], active: true, factor: 2 }, READ_KEY)).statusCode).toBe(403);
    expect((await put('/v1/storm', { gridIds: ['NO-GRID'], active: true })).statusCode).toBe(422);
    const on = await put('/v1/storm', { gridIds: ['TC-G1'], active: true, factor: 2 });
    expect(on.statusCode).toBe(200);
    expect(on.json()).toMatchObject({ items: [{ gridId: 'TC-G1', active: true, factor: 2 }], rescaled: 1 });
    const urban = 3.75 * HOUR;
    const incident = async (id: string) => (await get(`/v1/incidents/${id}`)).json<Incident>();
    expect((await incident(tc!.incidentId!)).etr).toBe(plus(tc!.request.receivedAt, 2 * urban));
    expect(await incident(manual!.incidentId!)).toMatchObject({ etr: new Date(manualEtr).toISOString(), etrSource: 'manual' });
    // Another grid is not in storm mode.
    expect((await incident(hh!.incidentId!)).etr).toBe(plus(hh!.request.receivedAt, 5.5 * HOUR));
    await h.settle();
    expect(incidentEventsOf(h, tc!.incidentId!).at(-1)?.data).toMatchObject({ change: 'etr', etrSource: 'policy' });

    expect([await inStormMode(h.db.pool, 'TC-G1'), await inStormMode(h.db.pool, 'HH-G1')]).toEqual([true, false]);
    // Every grid, default factor (GD_STORM_FACTOR 1.5): the rural one is rescaled too, and a new incident opens with it.
    const all = await put('/v1/storm', { gridIds: 'all', active: true });
    expect(all.json()).toMatchObject({ items: [{ gridId: '*', active: true, factor: 1.5 }], rescaled: 2 });
    expect((await incident(hh!.incidentId!)).etr).toBe(plus(hh!.request.receivedAt, 1.5 * 5.5 * HOUR));
    const [fresh] = (await h.send(fault('2026-12-23T11:00:00', 'TQ-002'))).map(assigned);
    expect(fresh?.etr).toBe(plus(fresh!.request.receivedAt, 1.5 * 5.5 * HOUR));
    expect((await get('/v1/storm')).json()).toMatchObject({ items: [{ gridId: '*', active: true, factor: 1.5 }] });

    await put('/v1/storm', { gridIds: 'all', active: false });
    expect(await inStormMode(h.db.pool, 'TC-G1')).toBe(false);
    expect((await incident(tc!.incidentId!)).etr).toBe(plus(tc!.request.receivedAt, urban));
    expect((await incident(manual!.incidentId!)).etr).toBe(new Date(manualEtr).toISOString());
  });
});

it('documents the outage routes in the OpenAPI document', async () => {
  const res = await h.host.inject({ method: 'GET', url: '/docs/json' });
  expect(res.statusCode).toBe(200);
  const paths = Object.keys((res.json() as { paths: Record<string, unknown> }).paths);
  expect(paths).toEqual(expect.arrayContaining(['/v1/incidents', '/v1/incidents/{id}', '/v1/incidents/{id}/etr', '/v1/storm']));
});
