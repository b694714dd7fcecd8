import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createGridIndex } from '../grid-index.ts';
import { validatePolygons } from '../validate-polygons.ts';
import { BENCH_SCALE, SAMPLE_FACTS, generateSampleCounty, type SampleCounty } from './generate.ts';

const hash = (c: SampleCounty): string => createHash('sha256').update(JSON.stringify(c)).digest('hex');
const county = generateSampleCounty();
const houhu = (id: string) => id.startsWith('HH-') || id === 'HH';

describe('generateSampleCounty — deterministic', () => {
  it('gives the same county for the same seed, a different one for another seed', () => {
    expect(hash(generateSampleCounty({ seed: 1 }))).toBe(hash(county));
    expect(hash(generateSampleCounty({ seed: 2 }))).not.toBe(hash(county));
  });

  it('has not changed by accident (other tests and the embedded start rely on its ids)', () => {
    // Update deliberately when the generator changes, and say so in the commit message.
    expect(hash(county)).toBe('098135d43a3325607d7387f951396f416f6d2217d559344190b547685c653b3d');
  });
});

describe('the sample county (docs/architecture.md#sample-data)', () => {
  const districtsOf = (prefix: string) => county.districts.filter((d) => d.code.startsWith(`${prefix}-`));
  const customersOf = (prefix: string) => {
    const codes = new Set(districtsOf(prefix).map((d) => d.code));
    return county.customers.filter((c) => codes.has(c.districtCode));
  };

  it('后湖: 7 district grids over 157 台区 on 4 feeders, 13,700 accounts, 1,811 aquaculture, 2 large + 6 small processors, 22 staff', () => {
    const grids = county.grids.filter((g) => houhu(g.id));
    expect(grids.filter((g) => g.kind === 'district').map((g) => g.name)).toEqual([
      '后湖1号网格',
      '后湖2号网格',
      '后湖3号网格',
      '后湖4号网格',
      '后湖5号网格',
      '后湖6号网格',
      '后湖7号网格',
    ]);
    expect(grids.every((g) => g.areaType === 'rural')).toBe(true);
    expect(districtsOf('HH')).toHaveLength(SAMPLE_FACTS.houhu.districts);
    expect(new Set(districtsOf('HH').map((d) => d.feederCode))).toEqual(new Set(['HH-10kV-01', 'HH-10kV-02', 'HH-10kV-03', 'HH-10kV-04']));
    const customers = customersOf('HH');
    expect(customers).toHaveLength(13_700);
    expect(customers.filter((c) => c.classes.includes('aquaculture'))).toHaveLength(1_811);
    const cold = customers.filter((c) => c.classes.includes('cold_storage'));
    expect(cold.filter((c) => c.name?.endsWith('有限公司'))).toHaveLength(2);
    expect(cold.filter((c) => c.name?.endsWith('冷库'))).toHaveLength(6);
    const staff = county.staff.filter((s) => s.id.startsWith('HH-'));
    expect(staff).toHaveLength(22);
    expect(staff.filter((s) => s.assignments.some((a) => a.role === 'manager'))).toHaveLength(7);
    expect(staff.filter((s) => s.assignments.some((a) => a.role === 'repair_crew')).length).toBeGreaterThanOrEqual(4);
    expect(staff.filter((s) => s.assignments.some((a) => a.role === 'station_head'))).toHaveLength(1);
  });

  it('天城镇: 8 communities as area grids with 12-digit codes, 16 grid managers, urban', () => {
    const communities = county.grids.filter((g) => g.id.startsWith('TC-C'));
    expect(communities).toHaveLength(8);
    expect(communities.map((g) => g.communityCode)).toEqual(Array.from({ length: 8 }, (_, i) => `42122310000${i + 1}`));
    expect(communities.every((g) => g.kind === 'area' && g.parentId === 'TC' && g.polygon !== null)).toBe(true);
    const grids = county.grids.filter((g) => g.id.startsWith('TC-G'));
    expect(grids).toHaveLength(16);
    expect(grids.every((g) => g.areaType === 'urban' && communities.some((c) => c.id === g.parentId))).toBe(true);
    expect(county.staff.filter((s) => s.id.startsWith('TC-') && s.assignments.some((a) => a.role === 'manager' && a.gridId.startsWith('TC-G')))).toHaveLength(
      16,
    );
    expect(districtsOf('TC')).toHaveLength(SAMPLE_FACTS.tiancheng.districts);
    expect(customersOf('TC')).toHaveLength(SAMPLE_FACTS.tiancheng.customers);
  });

  it('gives every district and community grid its 一格三员 (manager, assistant, supervisor)', () => {
    for (const g of county.grids.filter((x) => x.kind === 'district' || x.id.includes('-C'))) {
      const roles = county.staff.flatMap((s) => s.assignments.filter((a) => a.gridId === g.id).map((a) => a.role));
      expect(new Set(roles), g.id).toEqual(new Set(['manager', 'assistant', 'supervisor']));
    }
  });

  it('uses the code and number formats of the field', () => {
    expect(county.districts[16]?.code).toBe('HH-TQ-017');
    expect(county.districts.every((d) => /^(HH|TC)-TQ-\d{3}$/.test(d.code) && /^(HH|TC)-10kV-0[1-4]$/.test(d.feederCode))).toBe(true);
    expect(county.communities.every((c) => /^\d{12}$/.test(c.code))).toBe(true);
    expect(county.customers.every((c) => /^\d{10}$/.test(c.accountNo) && /^1\d{10}$/.test(c.phone ?? ''))).toBe(true);
    expect(new Set(county.customers.map((c) => c.accountNo)).size).toBe(county.customers.length);
    expect(county.staff.every((s) => /^1\d{10}$/.test(s.phone ?? '') && /^[\u4e00-\u9fff]{2,3}$/.test(s.name))).toBe(true);
  });

  it('rosters managers on day duty and the crew on 24 h shifts crossing midnight', () => {
    const managers = county.staff.filter((s) => s.assignments.some((a) => a.role === 'manager'));
    for (const m of managers) expect(county.rosters.some((r) => r.staffId === m.id && r.start === '08:30' && r.end === '17:30')).toBe(true);
    const crew = county.staff.filter((s) => s.assignments.some((a) => a.role === 'repair_crew'));
    for (const c of crew) expect(county.rosters.find((r) => r.staffId === c.id)).toMatchObject({ start: '08:00', end: '08:00' });
    // Every day of the week has a crew team on its 24 h shift.
    const crewDays = new Set(county.rosters.filter((r) => r.staffId.startsWith('HH-') && r.start === '08:00').flatMap((r) => r.days));
    expect([...crewDays].sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(county.rosters.some((r) => r.start === '22:00' && r.end === '06:00')).toBe(true);
  });
});

describe('the sample routes', () => {
  const index = createGridIndex({ grids: county.grids, districts: county.districts, communities: county.communities, nearestWithinMeters: 500 });

  it('has no overlapping or broken polygons', () => {
    expect(validatePolygons(county.grids)).toEqual([]);
  });

  it('routes every customer account to a grid through its 台区', () => {
    const unrouted = county.customers.filter((c) => !index.resolve({ accountDistrictCode: c.districtCode }).ok);
    expect(unrouted).toEqual([]);
  });

  it('places every 台区 transformer inside its own grid', () => {
    for (const d of county.districts) expect(index.resolve({ lon: d.lon, lat: d.lat }), d.code).toMatchObject({ gridId: d.gridId, resolvedBy: 'point' });
  });

  it('routes every community code to its area grid', () => {
    for (const c of county.communities) expect(index.resolve({ communityCode: c.code })).toMatchObject({ gridId: c.gridId, resolvedBy: 'community' });
  });

  it('sends points on the lake and in the fish-pond hole to the station area grid', () => {
    const g3 = county.grids.find((g) => g.id === 'HH-G03');
    expect(g3?.polygon?.coordinates).toHaveLength(2); // exterior + hole
    const hole = (g3?.polygon?.coordinates[1] ?? []) as number[][];
    const cx = hole.slice(0, -1).reduce((a, p) => a + (p[0] as number), 0) / (hole.length - 1);
    const cy = hole.slice(0, -1).reduce((a, p) => a + (p[1] as number), 0) / (hole.length - 1);
    expect(index.gridsAt(cx, cy)).toEqual(['HH']);
    expect(index.resolve({ lon: 114.18, lat: 30.66 })).toMatchObject({ gridId: 'HH', resolvedBy: 'point' }); // the lake cell
  });
});

describe('scale', () => {
  const three = generateSampleCounty({ scale: 3 });

  it('multiplies grids, polygons, 台区, staff and customers, keeping copy 0 as it is', () => {
    expect(three.grids).toHaveLength(3 * SAMPLE_FACTS.gridsPerCopy);
    expect(three.grids.filter((g) => g.polygon)).toHaveLength(3 * SAMPLE_FACTS.polygonsPerCopy);
    expect(three.districts).toHaveLength(3 * (157 + 64));
    expect(three.customers).toHaveLength(3 * 20_000);
    expect(three.customers.filter((c) => c.classes.includes('aquaculture'))).toHaveLength(3 * 1_811);
    expect(three.staff).toHaveLength(3 * (22 + 47));
    expect(three.grids.slice(0, 8)).toEqual(county.grids.slice(0, 8));
    expect(three.grids.map((g) => g.id)).toContain('HH3-G07');
    expect(new Set(three.customers.map((c) => c.accountNo)).size).toBe(three.customers.length);
  });

  it('keeps the copies apart on the map', () => {
    expect(validatePolygons(three.grids)).toEqual([]);
  });

  it('scales customers separately with customerScale', () => {
    const c = generateSampleCounty({ scale: 4, customerScale: 0.5 });
    expect(c.customers).toHaveLength(10_000);
    expect(c.grids.filter((g) => g.polygon)).toHaveLength(4 * 32);
  });

  it('reaches the benchmark size and refuses nonsense', () => {
    expect(BENCH_SCALE.scale * SAMPLE_FACTS.polygonsPerCopy).toBe(10_016);
    expect(BENCH_SCALE.customerScale * (SAMPLE_FACTS.houhu.customers + SAMPLE_FACTS.tiancheng.customers)).toBe(1_000_000);
    expect(() => generateSampleCounty({ scale: 0 })).toThrow(RangeError);
    expect(() => generateSampleCounty({ scale: 1.5 })).toThrow(RangeError);
    expect(() => generateSampleCounty({ scale: 100, customerScale: 0.01 })).toThrow(/customerScale too small/);
  });
});
