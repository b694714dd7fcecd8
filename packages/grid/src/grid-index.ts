import Flatbush from 'flatbush';
import { METERS_PER_DEGREE, compileGeometry, distanceToPolygonBoundary, locateInPolygon, metersPerDegreeLon, type CompiledPolygon } from './geometry.ts';
import type { CommunityRecord, DistrictRecord, GridKind, GridQuery, GridRecord, Resolution } from './types.ts';

export interface GridIndexOptions {
  grids: readonly GridRecord[];
  districts: readonly DistrictRecord[];
  /** A point outside every polygon goes to the nearest grid whose boundary is this close. 0 disables. */
  nearestWithinMeters: number;
  /** Extra community codes (e.g. the villages of a rural station) mapped to area grids. */
  communities?: readonly CommunityRecord[];
}

export interface GridIndex {
  resolve(query: GridQuery): Resolution;
  grid(id: string): GridRecord | undefined;
  district(code: string): DistrictRecord | undefined;
  /** Ids of every grid whose polygon contains the point (inside or on the boundary), most specific first. */
  gridsAt(lon: number, lat: number): string[];
  readonly counts: { grids: number; polygons: number; districts: number; communities: number };
}

/**
 * Nearest-grid ties: boundaries closer to each other than this are "equally near", and the
 * more specific grid wins (a district grid's outer edge usually coincides with its area's).
 */
const NEAREST_TIE_METERS = 1;

/** Lower is more specific. */
const KIND_RANK: Record<GridKind, number> = { district: 0, feeder: 1, area: 2 };

interface IndexedPart {
  grid: number;
  poly: CompiledPolygon;
}

/**
 * Builds the in-memory resolver. Never throws on bad data: a 台区 whose grid is unknown or a
 * polygon that cannot be read simply does not route (validation reports those at import).
 */
export function createGridIndex(options: GridIndexOptions): GridIndex {
  const grids = [...options.grids];
  const gridPos = new Map<string, number>();
  grids.forEach((g, i) => {
    if (!gridPos.has(g.id)) gridPos.set(g.id, i);
  });
  const districtByCode = new Map<string, DistrictRecord>();
  for (const d of options.districts) districtByCode.set(d.code, d);

  // Community codes: a grid's own code wins over the communities list.
  const communityGrid = new Map<string, string>();
  for (const c of options.communities ?? []) if (gridPos.has(c.gridId)) communityGrid.set(c.code, c.gridId);
  for (const g of grids) if (g.communityCode) communityGrid.set(g.communityCode, g.id);

  // Specificity order: kind, then depth in the hierarchy (deeper = more specific), then id.
  const order = specificityOrder(grids, gridPos);

  const parts: IndexedPart[] = [];
  for (let i = 0; i < grids.length; i++) {
    const polygon = grids[i]?.polygon;
    if (!polygon || gridPos.get(grids[i]?.id ?? '') !== i) continue;
    for (const poly of compileGeometry(polygon)) parts.push({ grid: i, poly });
  }
  let tree: Flatbush | null = null;
  if (parts.length > 0) {
    tree = new Flatbush(parts.length);
    for (const p of parts) tree.add(p.poly.minX, p.poly.minY, p.poly.maxX, p.poly.maxY);
    tree.finish();
  }

  const nearestMeters = Math.max(0, options.nearestWithinMeters);

  // Scratch state for the search callbacks, so a query allocates nothing on the hot path.
  let qx = 0;
  let qy = 0;
  let best = -1;
  const pointVisitor = (i: number): boolean => {
    const part = parts[i] as IndexedPart;
    if (best !== -1 && (order[part.grid] as number) > (order[best] as number)) return false;
    if (locateInPolygon(part.poly, qx, qy) !== 'outside') best = part.grid;
    return false;
  };

  function pointGrid(lon: number, lat: number): number {
    if (!tree) return -1;
    qx = lon;
    qy = lat;
    best = -1;
    tree.search(lon, lat, lon, lat, pointVisitor);
    return best;
  }

  let qkx = 0;
  let found: { grid: number; meters: number }[] = [];
  const nearVisitor = (i: number): boolean => {
    const part = parts[i] as IndexedPart;
    const meters = distanceToPolygonBoundary(part.poly, qx, qy, qkx);
    if (meters <= nearestMeters) found.push({ grid: part.grid, meters });
    return false;
  };

  function nearestGrid(lon: number, lat: number): { grid: number; meters: number } | null {
    if (!tree || nearestMeters === 0) return null;
    const kx = metersPerDegreeLon(lat);
    const dLat = nearestMeters / METERS_PER_DEGREE;
    const dLon = kx > 1e-6 ? nearestMeters / kx : 360;
    qx = lon;
    qy = lat;
    qkx = kx;
    found = [];
    tree.search(lon - dLon, lat - dLat, lon + dLon, lat + dLat, nearVisitor);
    if (found.length === 0) return null;
    let min = Infinity;
    for (const f of found) if (f.meters < min) min = f.meters;
    let pick: { grid: number; meters: number } | null = null;
    for (const f of found) {
      if (f.meters > min + NEAREST_TIE_METERS) continue;
      if (!pick || (order[f.grid] as number) < (order[pick.grid] as number)) pick = f;
    }
    return pick;
  }

  /** A district's grid as a resolution, or a note saying why it cannot route. */
  function viaDistrict(code: string, resolvedBy: 'account' | 'district'): Resolution | string {
    const d = districtByCode.get(code);
    const label = resolvedBy === 'account' ? "the account's" : 'the given';
    if (!d) return `${label} 台区 '${code}' is unknown`;
    if (!gridPos.has(d.gridId)) return `${label} 台区 '${code}' belongs to unknown grid '${d.gridId}'`;
    return { ok: true, gridId: d.gridId, resolvedBy, districtCode: d.code };
  }

  function resolve(q: GridQuery): Resolution {
    // Notes are only built on the way to a failure; the common paths allocate just the answer.
    let notes: string[] | null = null;
    if (q.accountDistrictCode) {
      const r = viaDistrict(q.accountDistrictCode, 'account');
      if (typeof r !== 'string') return r;
      (notes ??= []).push(r);
    }
    if (q.districtCode) {
      const r = viaDistrict(q.districtCode, 'district');
      if (typeof r !== 'string') return r;
      (notes ??= []).push(r);
    }
    const { lon, lat } = q;
    if (lon !== undefined && lon !== null && lat !== undefined && lat !== null) {
      if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) {
        (notes ??= []).push(`point (${lon}, ${lat}) is not a valid WGS 84 coordinate`);
      } else {
        const g = pointGrid(lon, lat);
        if (g !== -1) return { ok: true, gridId: (grids[g] as GridRecord).id, resolvedBy: 'point', districtCode: null };
        const near = nearestGrid(lon, lat);
        if (near) {
          return {
            ok: true,
            gridId: (grids[near.grid] as GridRecord).id,
            resolvedBy: 'nearest',
            districtCode: null,
            distanceMeters: Math.round(near.meters * 10) / 10,
          };
        }
        (notes ??= []).push(`point (${lon}, ${lat}) lies in no grid and none is within ${nearestMeters} m`);
      }
    }
    if (q.communityCode) {
      const gridId = communityGrid.get(q.communityCode);
      if (gridId) return { ok: true, gridId, resolvedBy: 'community', districtCode: null };
      (notes ??= []).push(`community code '${q.communityCode}' is unknown`);
    }
    if (notes === null) return { ok: false, reason: 'no account 台区, 台区 code, point or community code was given' };
    return { ok: false, reason: `no grid found: ${notes.join('; ')}` };
  }

  function gridsAt(lon: number, lat: number): string[] {
    if (!tree) return [];
    const hits = new Set<number>();
    tree.search(lon, lat, lon, lat, (i) => {
      const part = parts[i] as IndexedPart;
      if (locateInPolygon(part.poly, lon, lat) !== 'outside') hits.add(part.grid);
      return false;
    });
    return [...hits].sort((a, b) => (order[a] as number) - (order[b] as number)).map((i) => (grids[i] as GridRecord).id);
  }

  return {
    resolve,
    grid: (id) => {
      const i = gridPos.get(id);
      return i === undefined ? undefined : grids[i];
    },
    district: (code) => districtByCode.get(code),
    gridsAt,
    counts: { grids: gridPos.size, polygons: parts.length, districts: districtByCode.size, communities: communityGrid.size },
  };
}

/** Rank of every grid by specificity (0 = most specific): kind, then depth (deeper first), then id. */
function specificityOrder(grids: readonly GridRecord[], gridPos: ReadonlyMap<string, number>): Int32Array {
  const depth = new Int32Array(grids.length).fill(-1);
  const depthOf = (i: number): number => {
    const seen = new Set<number>();
    let cur = i;
    let d = 0;
    while (true) {
      const known = depth[cur] as number;
      if (known >= 0) {
        d += known;
        break;
      }
      seen.add(cur);
      const parent = grids[cur]?.parentId;
      const p = parent ? gridPos.get(parent) : undefined;
      if (p === undefined || seen.has(p)) break;
      d++;
      cur = p;
    }
    return d;
  };
  for (let i = 0; i < grids.length; i++) depth[i] = depthOf(i);
  const idx = grids.map((_, i) => i);
  idx.sort((a, b) => {
    const ga = grids[a] as GridRecord;
    const gb = grids[b] as GridRecord;
    const k = KIND_RANK[ga.kind] - KIND_RANK[gb.kind];
    if (k !== 0) return k;
    const dd = (depth[b] as number) - (depth[a] as number);
    if (dd !== 0) return dd;
    return ga.id < gb.id ? -1 : ga.id > gb.id ? 1 : 0;
  });
  const rank = new Int32Array(grids.length);
  idx.forEach((gi, r) => {
    rank[gi] = r;
  });
  return rank;
}
