import { describe, expect, it } from 'vitest';
import { generateSampleCounty } from '@griddispatch/grid';
import { Payload95598 } from '@griddispatch/intake';
import { createCallSource, shanghaiLocal, stormFeeders } from './calls.ts';

const county = generateSampleCounty({ seed: 1, scale: 2 });
const accounts = new Map(county.customers.map((c) => [c.accountNo, c.districtCode]));
const districts = new Map(county.districts.map((d) => [d.code, d]));

describe('createCallSource', () => {
  it('posts valid 95598 work orders on real 台区 and accounts', () => {
    const source = createCallSource({ county, mix: 'day', seed: 7, runId: 'abc' });
    const now = new Date('2026-11-23T11:40:05Z');
    for (let i = 0; i < 500; i++) {
      const call = source.next(now);
      expect(Payload95598.safeParse(call).success).toBe(true);
      expect(accounts.get(call.khbh)).toBe(call.tqbh);
      expect(districts.get(call.tqbh)?.feederCode).toBe(call.xlbh);
    }
  });

  it('gives every call its own work-order number, the same stream for the same seed', () => {
    const a = createCallSource({ county, mix: 'day', seed: 3, runId: 'r1' });
    const b = createCallSource({ county, mix: 'day', seed: 3, runId: 'r1' });
    const now = new Date();
    const calls = Array.from({ length: 200 }, () => a.next(now));
    expect(new Set(calls.map((c) => c.gdbh)).size).toBe(200);
    expect(Array.from({ length: 200 }, () => b.next(now))).toEqual(calls);
  });

  it('mixes categories like a county day', () => {
    const source = createCallSource({ county, mix: 'day', seed: 11, runId: 'x' });
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const c = source.next(new Date()).ywlb;
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(counts.size).toBe(7);
    expect((counts.get('01') ?? 0) / 2000).toBeGreaterThan(0.38);
  });

  it('storm: only fault calls, only from the hit feeders, piling up on a few 台区', () => {
    const source = createCallSource({ county, mix: 'storm', seed: 5, runId: 's', feeders: 10 });
    expect(source.feeders).toHaveLength(10);
    const hit = new Set(source.feeders.map((f) => f.code));
    const perDistrict = new Map<string, number>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const call = source.next(new Date());
      expect(call.ywlb).toBe('01');
      expect(hit.has(call.xlbh)).toBe(true);
      perDistrict.set(call.tqbh, (perDistrict.get(call.tqbh) ?? 0) + 1);
    }
    const top = [...perDistrict.values()].sort((a, b) => b - a);
    // Many repeated calls per 台区; the busiest one far above an even spread.
    expect(top[0]!).toBeGreaterThan((5 * n) / source.districts);
    expect(perDistrict.size).toBeLessThanOrEqual(source.districts);
  });
});

describe('stormFeeders', () => {
  it('takes the feeders with the most 台区, all of them when there are fewer', () => {
    const ten = stormFeeders(county, 10);
    expect(ten).toHaveLength(10);
    expect(ten[0]!.code).toBe('HH-10kV-01');
    expect(stormFeeders(generateSampleCounty({ seed: 1 }), 10)).toHaveLength(8);
  });
});

describe('shanghaiLocal', () => {
  it('writes 受理时间 in China time', () => {
    expect(shanghaiLocal(new Date('2026-11-23T11:40:05.123Z'))).toBe('2026-11-23 19:40:05');
  });
});
