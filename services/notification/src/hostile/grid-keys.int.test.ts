import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpHost } from '@griddispatch/http';
import { assignedData, assignedEvent, unroutableEvent, unroutableData } from '../testing/fixtures.ts';
import { startHarness, type Harness } from '../testing/harness.ts';
import { startReceiver, type Receiver } from '../testing/receiver.ts';

// Issue 17.2: a key that carries allowed grids (GD_API_KEYS `:grids=…`) subscribes only to
// them, hears only of them (an area grid's district grids count as inside it), and loses a grid
// at the next start once GD_API_KEYS no longer lists it for the key.

let h: Harness;
let app: FastifyInstance;
let cityHook: Receiver;
const CITY = 'city-hh-7Qm2xP9wRt5yBn4cLk3v';
const OPS = 'ops-key-Hk3vQ9zLm2xP7wRt5yBn4c';
const keys = (cityGrids: string) => `city:${CITY}:subscriptions:write:grids=${cityGrids},ops:${OPS}:admin`;
const auth = (secret: string) => ({ authorization: `Bearer ${secret}` });

async function host(cityGrids: string): Promise<FastifyInstance> {
  return buildHttpHost({ pool: h.db.pool, logger: h.logger, apiKeys: keys(cityGrids), services: [h.service], rateLimit: false, keyCacheTtlMs: 0 });
}

async function subscriptionRows(): Promise<{ grid_ids: string[] | null; status: string }[]> {
  return (
    await h.db.pool.query<{ grid_ids: string[] | null; status: string }>(
      "SELECT grid_ids, status FROM notification.subscriptions WHERE created_by = 'city' ORDER BY created_at",
    )
  ).rows;
}

const inGrid = (id: string, areaId: string) => assignedEvent(assignedData({ grid: { id, name: `${id}网格`, kind: 'district', areaType: 'rural', areaId } }));

beforeAll(async () => {
  h = await startHarness();
  cityHook = await startReceiver();
  app = await host('HH');
});
afterAll(async () => {
  await app?.close();
  await cityHook?.close();
  await h?.close();
});

describe('keys with allowed grids', () => {
  it('refuses a subscription to grids outside the key with 403 and stores nothing', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: auth(CITY),
      payload: { url: cityHook.url, events: ['dispatch.assigned'], gridIds: ['HH', 'TC'] },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'grid_not_allowed', details: { field: 'gridIds', grids: ['TC'] } } });
    expect(res.json<{ error: { message: string } }>().error.message).toContain('TC');
    expect(await subscriptionRows()).toEqual([]);
  });

  it('stores a subscription without gridIds with the key’s grids, and delivers only events of those grids', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: auth(CITY),
      payload: { url: cityHook.url, events: ['dispatch.assigned', 'dispatch.unroutable'] },
    });
    expect(res.statusCode).toBe(201);
    const listed = await app.inject({ method: 'GET', url: '/v1/subscriptions', headers: auth(CITY) });
    expect(listed.json<{ items: { gridIds: string[] | null }[] }>().items.map((s) => s.gridIds)).toEqual([['HH']]);

    const mine = inGrid('HH-G05', 'HH');
    const foreign = inGrid('TC-G01', 'TC');
    // An unroutable request has no grid: a key limited to grids never hears of it.
    await h.deliver(mine, foreign, unroutableEvent(unroutableData()));
    await cityHook.waitFor(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(cityHook.received.map((r) => (JSON.parse(r.body) as { id: string }).id)).toEqual([mine.id]);
  });

  it('accepts a district grid known to lie under the key’s area grid', async () => {
    // HH-G05's dispatch above told notification that HH-G05 lies in HH.
    const res = await app.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: auth(CITY),
      payload: { url: cityHook.url, events: ['sla.breached'], gridIds: ['HH-G05'] },
    });
    expect(res.statusCode).toBe(201);
    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: auth(CITY),
      payload: { url: cityHook.url, events: ['sla.breached'], gridIds: ['HH-G99'] },
    });
    expect(unknown.statusCode).toBe(403);
  });

  it('a key without grids keeps today’s behaviour (any grid, or every grid)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: auth(OPS),
      payload: { url: cityHook.url, events: ['sla.warning'], gridIds: ['TC'] },
    });
    expect(res.statusCode).toBe(201);
    const all = await app.inject({ method: 'POST', url: '/v1/subscriptions', headers: auth(OPS), payload: { url: cityHook.url, events: ['sla.warning'] } });
    expect(all.statusCode).toBe(201);
    const listed = await app.inject({ method: 'GET', url: '/v1/subscriptions', headers: auth(OPS) });
    // admin sees every key's subscriptions: the city key's two and these two.
    const grids = listed.json<{ items: { gridIds: string[] | null }[] }>().items.map((s) => s.gridIds);
    expect(grids).toHaveLength(4);
    expect(grids).toEqual(expect.arrayContaining([['TC'], null, ['HH'], ['HH-G05']]));
  });

  it('a grid taken from the key in GD_API_KEYS is taken from its subscriptions at the next start', async () => {
    await app.close();
    app = await host('TC');
    await h.restart();
    expect((await subscriptionRows()).map((s) => s.status)).toEqual(['disabled', 'disabled']);
    const before = cityHook.received.length;
    await h.deliver(inGrid('HH-G05', 'HH'));
    await new Promise((r) => setTimeout(r, 300));
    expect(cityHook.received.length).toBe(before);
    // And the key now subscribes to TC only.
    const res = await app.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: auth(CITY),
      payload: { url: cityHook.url, events: ['dispatch.assigned'], gridIds: ['HH'] },
    });
    expect(res.statusCode).toBe(403);
  });
});
