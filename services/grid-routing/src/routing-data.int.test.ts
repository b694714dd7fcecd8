import { afterAll, beforeAll, expect, it } from 'vitest';
import { toCsv } from '@griddispatch/grid';
import { freshDatabase, type FreshDatabase } from '@griddispatch/testkit';
import { RoutingDataCache } from './routing-data.ts';
import { fixtureCounty, fixtureFiles } from './testing/fixture-county.ts';
import { silentLogger } from './testing/harness.ts';
import { importData } from './use-cases/import-data.ts';

let db: FreshDatabase;
let cache: RoutingDataCache;
beforeAll(async () => {
  db = await freshDatabase('routing_data');
  expect((await importData(db.pool, fixtureFiles())).ok).toBe(true);
  cache = new RoutingDataCache(db.pool, 500, silentLogger());
  await cache.listen();
});
afterAll(async () => {
  await cache?.close();
  await db?.drop();
});

async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('reloads on the NOTIFY of a committed import, before any request asks', async () => {
  const first = await cache.current();
  expect(first.directory.grids.size).toBe(5);
  const county = fixtureCounty();
  county.districts.push({ code: 'TQ-005', name: '湖滨5号台区', feederCode: 'HH-10kV-01', gridId: 'HH-G2' });
  expect((await importData(db.pool, { districts: { text: toCsv('districts', county.districts) } })).ok).toBe(true);
  await eventually(() => cache.loadedVersion() === first.version + 1);
  const next = await cache.current();
  expect(next.index.resolve({ districtCode: 'TQ-005' })).toMatchObject({ ok: true, gridId: 'HH-G2', resolvedBy: 'district' });
});

it('a failed import bumps nothing and triggers no reload', async () => {
  const version = cache.loadedVersion();
  expect((await importData(db.pool, { districts: { text: 'code,name,feeder_code,grid_id\nTQ-9,x,HH-10kV-01,NOPE\n' } })).ok).toBe(false);
  expect((await cache.current()).version).toBe(version);
});
