import { describe, expect, it } from 'vitest';
import { METERS_PER_DEGREE } from './geometry.ts';
import { createGridIndex } from './grid-index.ts';
import type { DistrictRecord, GridGeometry, GridRecord, Position } from './types.ts';

function rect(x0: number, y0: number, x1: number, y1: number): Position[] {
  return [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
    [x0, y0],
  ];
}

function grid(id: string, kind: GridRecord['kind'], polygon: GridGeometry | null, extra: Partial<GridRecord> = {}): GridRecord {
  return { id, name: id, kind, parentId: null, areaType: 'rural', communityCode: null, polygon, districts: [], ...extra };
}

// Area AREA covers x 114.0–114.2; district grids D1 (x 114.0–114.1, with a hole) and D2
// (x 114.1–114.2) share the border x = 114.1; M is a two-part MultiPolygon further east.
const AREA = grid('AREA', 'area', { type: 'Polygon', coordinates: [rect(114.0, 30.0, 114.2, 30.1)] }, { communityCode: '420116110000' });
const D1 = grid(
  'D1',
  'district',
  { type: 'Polygon', coordinates: [rect(114.0, 30.0, 114.1, 30.1), rect(114.04, 30.04, 114.06, 30.06).reverse()] },
  { parentId: 'AREA' },
);
const D2 = grid('D2', 'district', { type: 'Polygon', coordinates: [rect(114.1, 30.0, 114.2, 30.1)] }, { parentId: 'AREA' });
const M = grid('M', 'district', { type: 'MultiPolygon', coordinates: [[rect(115.0, 30.0, 115.01, 30.01)], [rect(115.1, 30.0, 115.11, 30.01)]] });
const DISTRICTS: DistrictRecord[] = [
  { code: 'TQ-1', name: '一号台区', feederCode: 'F1', gridId: 'D1' },
  { code: 'TQ-2', name: '二号台区', feederCode: 'F1', gridId: 'D2' },
  { code: 'TQ-ORPHAN', name: '孤台区', feederCode: 'F1', gridId: 'NO-SUCH-GRID' },
];

const build = (grids: GridRecord[] = [AREA, D1, D2, M], nearestWithinMeters = 500) =>
  createGridIndex({ grids, districts: DISTRICTS, nearestWithinMeters, communities: [{ code: '420116110201', name: '后湖村', gridId: 'AREA' }] });

/** Longitude `meters` east of `lon` at latitude `lat`. */
const east = (lon: number, lat: number, meters: number) => lon + meters / (METERS_PER_DEGREE * Math.cos((lat * Math.PI) / 180));

describe('createGridIndex().resolve — path order', () => {
  const index = build();
  const everything = { accountDistrictCode: 'TQ-1', districtCode: 'TQ-2', lon: 115.005, lat: 30.005, communityCode: '420116110201' };

  it('uses the account 台区 first', () => {
    expect(index.resolve(everything)).toEqual({ ok: true, gridId: 'D1', resolvedBy: 'account', districtCode: 'TQ-1' });
  });

  it('then the given 台区 code', () => {
    expect(index.resolve({ ...everything, accountDistrictCode: undefined })).toEqual({ ok: true, gridId: 'D2', resolvedBy: 'district', districtCode: 'TQ-2' });
  });

  it('then the point', () => {
    expect(index.resolve({ lon: 115.005, lat: 30.005, communityCode: '420116110201' })).toEqual({
      ok: true,
      gridId: 'M',
      resolvedBy: 'point',
      districtCode: null,
    });
  });

  it('then the community code, mapped to its area grid', () => {
    expect(index.resolve({ communityCode: '420116110201' })).toEqual({ ok: true, gridId: 'AREA', resolvedBy: 'community', districtCode: null });
    expect(index.resolve({ communityCode: '420116110000' })).toMatchObject({ ok: true, gridId: 'AREA', resolvedBy: 'community' });
  });

  it('falls through unknown codes and says why when nothing matches', () => {
    expect(index.resolve({ accountDistrictCode: 'TQ-404', lon: 114.15, lat: 30.05 })).toMatchObject({ ok: true, gridId: 'D2', resolvedBy: 'point' });
    expect(index.resolve({ districtCode: 'TQ-ORPHAN', communityCode: '420116110201' })).toMatchObject({ ok: true, resolvedBy: 'community' });
    const r = index.resolve({ accountDistrictCode: 'TQ-404', districtCode: 'TQ-ORPHAN', lon: 120, lat: 35, communityCode: '999999999999' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toContain("the account's 台区 'TQ-404' is unknown");
    expect(r.reason).toContain("'TQ-ORPHAN' belongs to unknown grid 'NO-SUCH-GRID'");
    expect(r.reason).toContain('none is within 500 m');
    expect(r.reason).toContain("community code '999999999999' is unknown");
  });

  it('says so when no location is given at all', () => {
    expect(index.resolve({})).toEqual({ ok: false, reason: 'no account 台区, 台区 code, point or community code was given' });
  });

  it('skips an invalid coordinate and continues with the community', () => {
    expect(index.resolve({ lon: 200, lat: 30, communityCode: '420116110201' })).toMatchObject({ ok: true, resolvedBy: 'community' });
    expect(index.resolve({ lon: Number.NaN, lat: 30 })).toMatchObject({ ok: false, reason: expect.stringContaining('not a valid WGS 84 coordinate') });
  });
});

describe('point in polygon', () => {
  const index = build();

  it('prefers the district grid over the area grid that also contains the point', () => {
    expect(index.gridsAt(114.15, 30.05)).toEqual(['D2', 'AREA']);
    expect(index.resolve({ lon: 114.15, lat: 30.05 })).toMatchObject({ gridId: 'D2', resolvedBy: 'point' });
  });

  it('gives a point on a shared border to the grid with the smallest id, whatever the input order', () => {
    expect(index.gridsAt(114.1, 30.05)).toEqual(['D1', 'D2', 'AREA']);
    expect(index.resolve({ lon: 114.1, lat: 30.05 })).toMatchObject({ gridId: 'D1', resolvedBy: 'point' });
    expect(build([D2, M, AREA, D1]).resolve({ lon: 114.1, lat: 30.05 })).toMatchObject({ gridId: 'D1' });
    // A shared corner of both district grids on the outer edge as well.
    expect(index.resolve({ lon: 114.1, lat: 30.0 })).toMatchObject({ gridId: 'D1', resolvedBy: 'point' });
  });

  it('resolves points on a diagonal shared border deterministically, and either side correctly', () => {
    const lower = grid('T-B', 'district', {
      type: 'Polygon',
      coordinates: [
        [
          [114, 30],
          [114.3, 30],
          [114.3, 30.1],
          [114, 30],
        ],
      ],
    });
    const upper = grid('T-A', 'district', {
      type: 'Polygon',
      coordinates: [
        [
          [114, 30],
          [114.3, 30.1],
          [114, 30.1],
          [114, 30],
        ],
      ],
    });
    const idx = createGridIndex({ grids: [lower, upper], districts: [], nearestWithinMeters: 0 });
    for (let i = 1; i < 50; i++) {
      const t = i / 50;
      const x = 114 + 0.3 * t;
      const y = 30 + 0.1 * t;
      expect(idx.resolve({ lon: x, lat: y })).toMatchObject({ gridId: 'T-A' });
      expect(idx.resolve({ lon: x, lat: y - 1e-6 })).toMatchObject({ gridId: 'T-B' });
      expect(idx.resolve({ lon: x, lat: y + 1e-6 })).toMatchObject({ gridId: 'T-A' });
    }
  });

  it('does not place a point in a hole in the holed grid; the area grid around it takes it', () => {
    expect(index.gridsAt(114.05, 30.05)).toEqual(['AREA']);
    expect(index.resolve({ lon: 114.05, lat: 30.05 })).toMatchObject({ gridId: 'AREA', resolvedBy: 'point' });
    // The hole's own edge belongs to the grid.
    expect(index.resolve({ lon: 114.04, lat: 30.05 })).toMatchObject({ gridId: 'D1', resolvedBy: 'point' });
  });

  it('without an area grid, a point deep in a hole is nearest to the holed grid', () => {
    const idx = build([D1, D2], 2000);
    const r = idx.resolve({ lon: 114.05, lat: 30.05 });
    expect(r).toMatchObject({ ok: true, gridId: 'D1', resolvedBy: 'nearest' });
    if (r.ok) expect(r.distanceMeters).toBeCloseTo(963, -1); // 0.01° of longitude at 30°N, nearer than 0.01° of latitude
    expect(build([D1, D2], 500).resolve({ lon: 114.05, lat: 30.05 }).ok).toBe(false);
  });

  it('finds the part of a MultiPolygon that holds the point', () => {
    expect(index.resolve({ lon: 115.105, lat: 30.005 })).toMatchObject({ gridId: 'M', resolvedBy: 'point' });
    expect(index.resolve({ lon: 115.05, lat: 30.005 }).ok).toBe(false);
  });
});

describe('nearest grid within the configured distance', () => {
  const index = build();

  it('routes a point just outside every polygon to the nearest grid, with the distance', () => {
    const r = index.resolve({ lon: 114.15, lat: 30.1 + 200 / METERS_PER_DEGREE });
    expect(r).toMatchObject({ ok: true, gridId: 'D2', resolvedBy: 'nearest', districtCode: null });
    if (r.ok) expect(r.distanceMeters).toBeCloseTo(200, 0);
  });

  it('prefers the district grid when its edge and the area edge are equally near', () => {
    expect(index.resolve({ lon: east(114.2, 30.05, 300), lat: 30.05 })).toMatchObject({ gridId: 'D2', resolvedBy: 'nearest' });
  });

  it('measures longitude distance in meters at the latitude (not degrees)', () => {
    const r = index.resolve({ lon: east(114.2, 30.05, 450), lat: 30.05 });
    expect(r).toMatchObject({ resolvedBy: 'nearest' });
    if (r.ok) expect(r.distanceMeters).toBeCloseTo(450, 0);
    expect(index.resolve({ lon: east(114.2, 30.05, 550), lat: 30.05 }).ok).toBe(false);
  });

  it('beyond the distance falls to the community code, then to unroutable', () => {
    const far = { lon: east(114.2, 30.05, 2000), lat: 30.05 };
    expect(index.resolve({ ...far, communityCode: '420116110201' })).toMatchObject({ ok: true, gridId: 'AREA', resolvedBy: 'community' });
    expect(index.resolve(far)).toEqual({ ok: false, reason: `no grid found: point (${far.lon}, 30.05) lies in no grid and none is within 500 m` });
  });

  it('is off when nearestWithinMeters is 0', () => {
    expect(build(undefined, 0).resolve({ lon: east(114.2, 30.05, 1), lat: 30.05 }).ok).toBe(false);
  });
});

describe('index data handling', () => {
  it('counts what it indexed and looks records up', () => {
    const index = build();
    expect(index.counts).toEqual({ grids: 4, polygons: 5, districts: 3, communities: 2 });
    expect(index.grid('D1')?.name).toBe('D1');
    expect(index.district('TQ-2')?.gridId).toBe('D2');
    expect(index.grid('nope')).toBeUndefined();
  });

  it('works with no polygons at all (codes only)', () => {
    const index = createGridIndex({
      grids: [grid('G', 'district', null)],
      districts: [{ code: 'T', name: 't', feederCode: 'F', gridId: 'G' }],
      nearestWithinMeters: 500,
    });
    expect(index.resolve({ districtCode: 'T' })).toMatchObject({ ok: true, gridId: 'G' });
    expect(index.resolve({ lon: 114, lat: 30 }).ok).toBe(false);
  });

  it('prefers the deeper of two nested area grids', () => {
    const town = grid('A-TOWN', 'area', { type: 'Polygon', coordinates: [rect(114, 30, 114.2, 30.1)] });
    const village = grid('B-VILLAGE', 'area', { type: 'Polygon', coordinates: [rect(114.05, 30.02, 114.1, 30.06)] }, { parentId: 'A-TOWN' });
    const index = createGridIndex({ grids: [town, village], districts: [], nearestWithinMeters: 0 });
    expect(index.resolve({ lon: 114.07, lat: 30.04 })).toMatchObject({ gridId: 'B-VILLAGE' });
    expect(index.resolve({ lon: 114.15, lat: 30.04 })).toMatchObject({ gridId: 'A-TOWN' });
  });
});
