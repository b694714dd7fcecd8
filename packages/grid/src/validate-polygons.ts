import Flatbush from 'flatbush';
import { BOUNDARY_EPSILON_DEG, compilePolygon, locateInPolygon, polygonsOf, type CompiledPolygon } from './geometry.ts';
import type { GridGeometry, GridRecord, Position } from './types.ts';

export type PolygonProblemCode = 'invalid_geometry' | 'ring_not_closed' | 'ring_too_short' | 'coordinate_out_of_range' | 'self_intersection' | 'overlap';

export interface PolygonProblem {
  code: PolygonProblemCode;
  /** The grid(s) concerned; for `overlap` both ids, smaller first. */
  gridIds: string[];
  message: string;
}

export interface ValidatePolygonsOptions {
  /** Check rings for edges that cross each other (O(n²) per ring). Default true. */
  selfIntersection?: boolean;
}

/**
 * Structural checks of one geometry as read from a file (not trusted to be GeoJSON): type,
 * nesting, closed rings of at least 4 positions, finite WGS 84 coordinates.
 */
export function checkGeometry(geometry: unknown): { code: PolygonProblemCode; message: string }[] {
  const problems: { code: PolygonProblemCode; message: string }[] = [];
  if (typeof geometry !== 'object' || geometry === null) {
    return [{ code: 'invalid_geometry', message: 'geometry must be a GeoJSON Polygon or MultiPolygon object' }];
  }
  const g = geometry as { type?: unknown; coordinates?: unknown };
  let polygons: unknown[];
  if (g.type === 'Polygon') polygons = [g.coordinates];
  else if (g.type === 'MultiPolygon') {
    if (!Array.isArray(g.coordinates) || g.coordinates.length === 0) {
      return [{ code: 'invalid_geometry', message: 'MultiPolygon coordinates must be a non-empty array of polygons' }];
    }
    polygons = g.coordinates;
  } else {
    return [{ code: 'invalid_geometry', message: `geometry type must be Polygon or MultiPolygon, got ${JSON.stringify(g.type)}` }];
  }
  polygons.forEach((rings, pi) => {
    const where = polygons.length > 1 || g.type === 'MultiPolygon' ? `polygon ${pi + 1}, ` : '';
    if (!Array.isArray(rings) || rings.length === 0) {
      problems.push({ code: 'invalid_geometry', message: `${where}coordinates must be a non-empty array of rings` });
      return;
    }
    rings.forEach((ring: unknown, ri) => {
      const label = `${where}${ri === 0 ? 'exterior ring' : `hole ${ri}`}`;
      if (!Array.isArray(ring)) {
        problems.push({ code: 'invalid_geometry', message: `${label} is not an array of positions` });
        return;
      }
      for (let k = 0; k < ring.length; k++) {
        const p: unknown = ring[k];
        if (!Array.isArray(p) || p.length < 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number') {
          problems.push({ code: 'invalid_geometry', message: `${label}, position ${k + 1} is not [lon, lat]` });
          return;
        }
        const [lon, lat] = p as [number, number];
        if (!Number.isFinite(lon) || !Number.isFinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90) {
          problems.push({
            code: 'coordinate_out_of_range',
            message: `${label}, position ${k + 1} [${lon}, ${lat}] is outside lon -180..180 / lat -90..90`,
          });
          return;
        }
      }
      if (ring.length < 4) {
        problems.push({ code: 'ring_too_short', message: `${label} has ${ring.length} positions; a closed ring needs at least 4` });
        return;
      }
      const first = ring[0] as number[];
      const last = ring[ring.length - 1] as number[];
      if (first[0] !== last[0] || first[1] !== last[1]) {
        problems.push({ code: 'ring_not_closed', message: `${label} is not closed: first position ≠ last position` });
      }
    });
  });
  return problems;
}

/**
 * Checks every grid's polygon and reports overlaps between grids of the same kind. Grids in an
 * ancestor/descendant relation may overlap (an area drawn around its sub-grids); shared borders
 * are not overlaps.
 */
export function validatePolygons(grids: readonly GridRecord[], options: ValidatePolygonsOptions = {}): PolygonProblem[] {
  const problems: PolygonProblem[] = [];
  const valid: { grid: GridRecord; parts: CompiledPolygon[]; rings: Position[][][] }[] = [];
  for (const grid of grids) {
    if (grid.polygon === null || grid.polygon === undefined) continue;
    const structural = checkGeometry(grid.polygon);
    for (const p of structural) problems.push({ ...p, gridIds: [grid.id], message: `grid ${grid.id}: ${p.message}` });
    if (structural.length > 0) continue;
    const rings = polygonsOf(grid.polygon as GridGeometry);
    if (options.selfIntersection !== false) {
      for (const p of selfIntersections(rings)) problems.push({ code: 'self_intersection', gridIds: [grid.id], message: `grid ${grid.id}: ${p}` });
    }
    const parts: CompiledPolygon[] = [];
    for (const r of rings) {
      const c = compilePolygon(r);
      if (c) parts.push(c);
    }
    valid.push({ grid, parts, rings });
  }

  const byId = new Map(grids.map((g) => [g.id, g]));
  const isAncestor = (a: GridRecord, b: GridRecord): boolean => {
    const seen = new Set<string>();
    let cur = b.parentId;
    while (cur && !seen.has(cur)) {
      if (cur === a.id) return true;
      seen.add(cur);
      cur = byId.get(cur)?.parentId ?? null;
    }
    return false;
  };

  const boxes: { item: number; part: number }[] = [];
  valid.forEach((v, item) => v.parts.forEach((_, part) => boxes.push({ item, part })));
  if (boxes.length < 2) return problems;
  const tree = new Flatbush(boxes.length);
  for (const b of boxes) {
    const p = valid[b.item]?.parts[b.part] as CompiledPolygon;
    tree.add(p.minX, p.minY, p.maxX, p.maxY);
  }
  tree.finish();

  const reported = new Set<string>();
  boxes.forEach((b, bi) => {
    const a = valid[b.item] as (typeof valid)[number];
    const pa = a.parts[b.part] as CompiledPolygon;
    for (const oi of tree.search(pa.minX, pa.minY, pa.maxX, pa.maxY)) {
      if (oi <= bi) continue;
      const o = boxes[oi] as { item: number; part: number };
      if (o.item === b.item) continue;
      const other = valid[o.item] as (typeof valid)[number];
      if (other.grid.kind !== a.grid.kind || other.grid.id === a.grid.id) continue;
      const [first, second] = a.grid.id < other.grid.id ? [a.grid, other.grid] : [other.grid, a.grid];
      const key = `${first.id}\u0000${second.id}`;
      if (reported.has(key)) continue;
      if (isAncestor(a.grid, other.grid) || isAncestor(other.grid, a.grid)) continue;
      const witness = overlapWitness(pa, other.parts[o.part] as CompiledPolygon);
      if (witness) {
        reported.add(key);
        problems.push({
          code: 'overlap',
          gridIds: [first.id, second.id],
          message: `grids ${first.id} and ${second.id} (both ${first.kind}) overlap near [${witness[0].toFixed(6)}, ${witness[1].toFixed(6)}]`,
        });
      }
    }
  });
  return problems;
}

/** Signed distance-like orientation of c relative to a→b, in degrees (0 = collinear). */
function orient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len = Math.sqrt(dx * dx + dy * dy);
  if (len === 0) return 0;
  const d = (dx * (cy - ay) - dy * (cx - ax)) / len;
  return Math.abs(d) <= BOUNDARY_EPSILON_DEG ? 0 : d;
}

function properCross(ax: number, ay: number, bx: number, by: number, cx: number, cy: number, dx: number, dy: number): boolean {
  if (Math.max(ax, bx) < Math.min(cx, dx) || Math.max(cx, dx) < Math.min(ax, bx)) return false;
  if (Math.max(ay, by) < Math.min(cy, dy) || Math.max(cy, dy) < Math.min(ay, by)) return false;
  const o1 = orient(ax, ay, bx, by, cx, cy);
  const o2 = orient(ax, ay, bx, by, dx, dy);
  const o3 = orient(cx, cy, dx, dy, ax, ay);
  const o4 = orient(cx, cy, dx, dy, bx, by);
  return o1 * o2 < 0 && o3 * o4 < 0;
}

function selfIntersections(polygons: Position[][][]): string[] {
  const out: string[] = [];
  polygons.forEach((rings, pi) => {
    rings.forEach((ring, ri) => {
      const n = ring.length - 1;
      for (let i = 0; i < n; i++) {
        const a = ring[i] as number[];
        const b = ring[i + 1] as number[];
        for (let j = i + 2; j < n; j++) {
          if (i === 0 && j === n - 1) continue; // the closing edge touches the first
          const c = ring[j] as number[];
          const d = ring[j + 1] as number[];
          if (properCross(a[0] as number, a[1] as number, b[0] as number, b[1] as number, c[0] as number, c[1] as number, d[0] as number, d[1] as number)) {
            const where = polygons.length > 1 ? `polygon ${pi + 1}, ` : '';
            out.push(`${where}${ri === 0 ? 'exterior ring' : `hole ${ri}`} crosses itself (edges ${i + 1} and ${j + 1})`);
            return;
          }
        }
      }
    });
  });
  return out;
}

/**
 * A point in the interior of both polygons, or null when their interiors are disjoint. Edges that
 * cross properly prove an overlap; otherwise boundaries only touch, and an overlap shows as a
 * vertex, an edge midpoint, or a point just inside an edge of one polygon lying strictly inside
 * the other (this last one catches identical polygons).
 */
export function overlapWitness(a: CompiledPolygon, b: CompiledPolygon): [number, number] | null {
  if (a.maxX < b.minX || b.maxX < a.minX || a.maxY < b.minY || b.maxY < a.minY) return null;
  const ca = a.coords;
  const cb = b.coords;
  // Start index of every edge (edges do not run across the end of a ring).
  const edgesOf = (p: CompiledPolygon): number[] => {
    const out: number[] = [];
    let start = 0;
    for (const end of p.ringEnds) {
      for (let i = start; i < end - 1; i++) out.push(i);
      start = end;
    }
    return out;
  };
  const ea = edgesOf(a);
  const eb = edgesOf(b);
  for (const i of ea) {
    const ax = ca[2 * i] as number,
      ay = ca[2 * i + 1] as number,
      bx = ca[2 * i + 2] as number,
      by = ca[2 * i + 3] as number;
    if (Math.max(ax, bx) < b.minX || Math.min(ax, bx) > b.maxX || Math.max(ay, by) < b.minY || Math.min(ay, by) > b.maxY) continue;
    for (const j of eb) {
      const cx = cb[2 * j] as number,
        cy = cb[2 * j + 1] as number,
        dx = cb[2 * j + 2] as number,
        dy = cb[2 * j + 3] as number;
      if (properCross(ax, ay, bx, by, cx, cy, dx, dy)) {
        // Somewhere next to the crossing both interiors meet; the crossing point is a fair witness.
        const t = intersectionParam(ax, ay, bx, by, cx, cy, dx, dy);
        return [ax + t * (bx - ax), ay + t * (by - ay)];
      }
    }
  }
  return pointsStrictlyInside(a, b) ?? pointsStrictlyInside(b, a);
}

function intersectionParam(ax: number, ay: number, bx: number, by: number, cx: number, cy: number, dx: number, dy: number): number {
  const rX = bx - ax,
    rY = by - ay,
    sX = dx - cx,
    sY = dy - cy;
  const den = rX * sY - rY * sX;
  return den === 0 ? 0.5 : ((cx - ax) * sY - (cy - ay) * sX) / den;
}

function pointsStrictlyInside(p: CompiledPolygon, q: CompiledPolygon): [number, number] | null {
  const c = p.coords;
  let start = 0;
  for (let r = 0; r < p.ringEnds.length; r++) {
    const end = p.ringEnds[r] as number;
    // Which side of this ring's edges is the polygon's interior: left for a counter-clockwise
    // exterior, right for a clockwise one, and the reverse for holes.
    let area = 0;
    for (let i = start; i < end - 1; i++) area += (c[2 * i] as number) * (c[2 * i + 3] as number) - (c[2 * i + 2] as number) * (c[2 * i + 1] as number);
    const interiorLeft = area > 0 === (r === 0);
    for (let i = start; i < end - 1; i++) {
      const ax = c[2 * i] as number,
        ay = c[2 * i + 1] as number,
        bx = c[2 * i + 2] as number,
        by = c[2 * i + 3] as number;
      if (locateInPolygon(q, ax, ay) === 'inside') return [ax, ay];
      const mx = (ax + bx) / 2;
      const my = (ay + by) / 2;
      if (locateInPolygon(q, mx, my) === 'inside') return [mx, my];
      const len = Math.hypot(bx - ax, by - ay);
      if (len === 0) continue;
      // Step a little (1e-7°, ~1 cm, far above the boundary tolerance) into p's interior.
      const step = Math.min(1e-7, len / 4) / len;
      const sx = interiorLeft ? -(by - ay) * step : (by - ay) * step;
      const sy = interiorLeft ? (bx - ax) * step : -(bx - ax) * step;
      if (locateInPolygon(q, mx + sx, my + sy) === 'inside' && locateInPolygon(p, mx + sx, my + sy) === 'inside') return [mx + sx, my + sy];
    }
    start = end;
  }
  return null;
}
