import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessBus, type Bus } from '@griddispatch/bus';
import type { Incident } from '@griddispatch/contracts';
import { generateSampleCounty } from '@griddispatch/grid';
import { parseHttpEnv } from '@griddispatch/http';
import { createLogger } from '@griddispatch/observability';
import { freshDatabase } from '@griddispatch/testkit';
import { simulate } from './commands/simulate.ts';
import { districtsOfFeeder } from './commands/simulate-feeder-trip.ts';
import { testIo } from './commands/test-io.ts';
import { buildStack, type Stack } from './stack.ts';

// 主动抢修 end to end on the embedded stack: `griddispatch simulate --feeder-trip` posts every
// meter of a feeder to intake; grid-routing opens one incident per 台区 before anyone calls and
// nests them under one feeder incident; `--restore` brings the meters back and restores them.

const KEY = 'trip-secret-0123456789abcdef';
const FEEDER = 'HH-10kV-02';
let db: Awaited<ReturnType<typeof freshDatabase>>;
let bus: Bus;
let stack: Stack;
let url: string;

beforeAll(async () => {
  db = await freshDatabase('feeder_trip');
  const logger = createLogger({ service: 'trip-test', level: process.env.LOG_LEVEL ?? 'warn' });
  bus = createInProcessBus({ prefix: 'griddispatch.', logger });
  stack = await buildStack({ pool: db.pool, bus, logger, http: parseHttpEnv({ GD_API_KEYS: `trip:${KEY}:admin`, GD_RATE_LIMIT_MAX: '0' }), sampleData: true });
  await stack.host.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(stack.host.server.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await bus?.close();
  await db?.drop();
});

async function incidents(status?: string): Promise<Incident[]> {
  const res = await stack.host.inject({
    method: 'GET',
    url: `/v1/incidents?feederCode=${FEEDER}&limit=100${status ? `&status=${status}` : ''}`,
    headers: { authorization: `Bearer ${KEY}` },
  });
  return (res.json() as { items: Incident[] }).items;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('simulate --feeder-trip on the embedded stack', () => {
  const districts = districtsOfFeeder(generateSampleCounty({ seed: 1 }), FEEDER);

  it('opens one meter incident per 台区 of the feeder, nested under one feeder incident, before any call', async () => {
    const t = testIo({ env: { GD_URL: url, GD_API_KEY: KEY } });
    expect(await simulate(['--feeder-trip', FEEDER], t.io)).toBe(0);
    const open = (list: Incident[]) => list.filter((i) => i.status !== 'restored' && i.status !== 'closed');
    await until(async () => open(await incidents()).filter((i) => i.kind === 'district').length === districts.length, 'an incident on every 台区');
    const all = open(await incidents());
    const feeder = all.filter((i) => i.kind === 'feeder');
    expect(feeder).toHaveLength(1);
    expect(feeder[0]).toMatchObject({ origin: 'meter', feederCode: FEEDER, districtCodes: districts });
    const children = all.filter((i) => i.kind === 'district');
    expect(children.flatMap((i) => i.districtCodes).sort()).toEqual(districts);
    expect(children.every((i) => i.origin === 'meter' && i.parentId === feeder[0]!.id)).toBe(true);
  });

  it('--restore: every meter back on restores the 台区 incidents by meters, and with them the feeder incident', async () => {
    const t = testIo({ env: { GD_URL: url, GD_API_KEY: KEY } });
    expect(await simulate(['--feeder-trip', FEEDER, '--restore'], t.io)).toBe(0);
    await until(async () => (await incidents()).every((i) => i.status === 'restored' || i.status === 'closed'), 'every incident restored');
    expect((await incidents()).every((i) => !i.restorationUnconfirmed)).toBe(true);
  });
});
