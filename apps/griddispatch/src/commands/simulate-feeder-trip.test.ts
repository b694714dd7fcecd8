import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeterEventsBody } from '@griddispatch/contracts';
import { generateSampleCounty, type SampleCounty } from '@griddispatch/grid';
import { simulate } from './simulate.ts';
import { districtsOfFeeder, feederTripEvents } from './simulate-feeder-trip.ts';
import { testIo } from './test-io.ts';

let county: SampleCounty;
beforeAll(() => {
  county = generateSampleCounty({ seed: 1 });
});

describe('feeder trip events', () => {
  it('one power_off per meter behind the feeder: each 台区 transformer meter first, then its customers', () => {
    const districts = districtsOfFeeder(county, 'HH-10kV-01');
    expect(districts.length).toBeGreaterThan(0);
    const customers = county.customers.filter((c) => districts.includes(c.districtCode));
    const events = feederTripEvents(county, 'HH-10kV-01', new Date('2026-12-07T02:00:00Z'), 'run1');
    expect(events).toHaveLength(districts.length + customers.length);
    expect(events[0]).toMatchObject({ kind: 'power_off', meterId: `TM-${districts[0]}`, districtCode: districts[0] });
    expect(events[1]?.meterId).toMatch(/^M-\d{10}$/);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    expect(MeterEventsBody.safeParse({ source: 'simulate', events: events.slice(0, 1000) }).success).toBe(true);
  });
});

describe('griddispatch simulate --feeder-trip', () => {
  const bodies: unknown[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      const body = JSON.parse(text) as { events: unknown[] };
      bodies.push(body);
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: body.events.length, duplicates: 0 }));
    });
  });
  let url: string;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('posts every meter of the feeder in batches of at most 1,000, with progress', async () => {
    const t = testIo({ env: { GD_URL: url, GD_API_KEY: 'k' } });
    expect(await simulate(['--feeder-trip', 'TC-10kV-02'], t.io)).toBe(0);
    const total = feederTripEvents(county, 'TC-10kV-02', new Date(), 'x').length;
    const sizes = bodies.map((b) => (b as { events: unknown[] }).events.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(total);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1000);
    expect(t.stderr()).toContain(`${total}/${total} meter events sent`);
    expect(t.stdout()).toContain(`${total} accepted`);
  });

  it('refuses a feeder the sample county does not have', async () => {
    const t = testIo({ env: { GD_URL: url, GD_API_KEY: 'k' } });
    expect(await simulate(['--feeder-trip', 'XX-10kV-09'], t.io)).not.toBe(0);
    expect(t.stderr()).toContain('no feeder XX-10kV-09');
  });
});
