import type { GridGeometry, Position } from './types.ts';

/** Mean earth radius (IUGG), meters. */
const EARTH_RADIUS_M = 6_371_008.8;
/** Meters per degree of latitude (and of longitude at the equator). */
export const METERS_PER_DEGREE = (EARTH_RADIUS_M * Math.PI) / 180;

/**
 * A point closer than this to an edge (in degrees, ~0.1 mm) counts as lying on it. Without a
 * tolerance a point typed in as "on" a diagonal border would land on either side by rounding.
 */
export const BOUNDARY_EPSILON_DEG = 1e-9;

export type BBox = [minX: number, minY: number, maxX: number, maxY: number];

export type PointLocation = 'inside' | 'boundary' | 'outside';

/**
 * One polygon (exterior + holes) flattened for fast tests: `coords` holds x,y pairs of every
 * ring one after the other, each ring closed (last point == first); `ringEnds[i]` is the
 * point index one past ring i.
 */
export interface CompiledPolygon {
  coords: Float64Array;
  ringEnds: Uint32Array;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** The polygons of a Polygon (one) or MultiPolygon (several) geometry. */
export function polygonsOf(geometry: GridGeometry): Position[][][] {
  return geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
}

/** Flattens one GeoJSON polygon; unclosed rings are closed, rings with < 3 points dropped. */
export function compilePolygon(rings: Position[][]): CompiledPolygon | null {
  const xs: number[] = [];
  const ends: number[] = [];
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const ring of rings) {
    if (ring.length < 3) continue;
    for (const p of ring) {
      const x = p[0] ?? NaN;
      const y = p[1] ?? NaN;
      xs.push(x, y);
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    const first = ring[0];
    const last = ring[ring.length - 1];
    if (first && last && (first[0] !== last[0] || first[1] !== last[1])) xs.push(first[0] ?? NaN, first[1] ?? NaN);
    ends.push(xs.length / 2);
  }
  if (ends.length === 0 || !Number.isFinite(minX + minY + maxX + maxY)) return null;
  return { coords: Float64Array.from(xs), ringEnds: Uint32Array.from(ends), minX, minY, maxX, maxY };
}

export function compileGeometry(geometry: GridGeometry): CompiledPolygon[] {
  const out: CompiledPolygon[] = [];
  for (const rings of polygonsOf(geometry)) {
    const compiled = compilePolygon(rings);
    if (compiled) out.push(compiled);
  }
  return out;
}

/**
 * Even-odd ray casting over all rings (so holes subtract), with a boundary check first.
 * The crossing of an edge is computed from its lower endpoint whatever the ring's direction,
 * so two polygons sharing an edge agree exactly on which side a point is.
 */
export function locateInPolygon(poly: CompiledPolygon, x: number, y: number): PointLocation {
  const eps = BOUNDARY_EPSILON_DEG;
  if (x < poly.minX - eps || x > poly.maxX + eps || y < poly.minY - eps || y > poly.maxY + eps) return 'outside';
  const c = poly.coords;
  const ends = poly.ringEnds;
  let inside = false;
  let start = 0;
  for (let r = 0; r < ends.length; r++) {
    const end = ends[r] as number;
    for (let i = start; i < end - 1; i++) {
      const x1 = c[2 * i] as number;
      const y1 = c[2 * i + 1] as number;
      const x2 = c[2 * i + 2] as number;
      const y2 = c[2 * i + 3] as number;
      // Boundary: only for edges whose (slightly grown) box holds the point.
      if (x >= (x1 < x2 ? x1 : x2) - eps && x <= (x1 > x2 ? x1 : x2) + eps && y >= (y1 < y2 ? y1 : y2) - eps && y <= (y1 > y2 ? y1 : y2) + eps) {
        const dx = x2 - x1;
        const dy = y2 - y1;
        const len = Math.sqrt(dx * dx + dy * dy);
        const cross = dx * (y - y1) - dy * (x - x1);
        if (len === 0 ? Math.abs(x - x1) <= eps && Math.abs(y - y1) <= eps : Math.abs(cross) <= eps * len) {
          return 'boundary';
        }
      }
      if (y1 > y !== y2 > y) {
        let ax: number, ay: number, bx: number, by: number;
        if (y1 < y2) {
          ax = x1;
          ay = y1;
          bx = x2;
          by = y2;
        } else {
          ax = x2;
          ay = y2;
          bx = x1;
          by = y1;
        }
        if (x < ax + ((y - ay) * (bx - ax)) / (by - ay)) inside = !inside;
      }
    }
    start = end;
  }
  return inside ? 'inside' : 'outside';
}

/** Where a point lies relative to a Polygon/MultiPolygon (any part). */
export function locatePoint(geometry: GridGeometry, lon: number, lat: number): PointLocation {
  let result: PointLocation = 'outside';
  for (const poly of compileGeometry(geometry)) {
    const loc = locateInPolygon(poly, lon, lat);
    if (loc === 'inside') return 'inside';
    if (loc === 'boundary') result = 'boundary';
  }
  return result;
}

/** True when the point is inside or on the boundary (closed-set semantics). */
export function containsPoint(geometry: GridGeometry, lon: number, lat: number): boolean {
  return locatePoint(geometry, lon, lat) !== 'outside';
}

/**
 * Shortest distance in meters from a point to any ring edge of the polygon, on a local
 * equirectangular projection at the point's latitude: well under 0.1 % error over the few
 * kilometres this is used for. The projection is passed in to be shared across polygons.
 */
export function distanceToPolygonBoundary(poly: CompiledPolygon, x: number, y: number, metersPerDegLon: number): number {
  const c = poly.coords;
  const ends = poly.ringEnds;
  const ky = METERS_PER_DEGREE;
  const kx = metersPerDegLon;
  let best = Infinity;
  let start = 0;
  for (let r = 0; r < ends.length; r++) {
    const end = ends[r] as number;
    for (let i = start; i < end - 1; i++) {
      const ax = ((c[2 * i] as number) - x) * kx;
      const ay = ((c[2 * i + 1] as number) - y) * ky;
      const bx = ((c[2 * i + 2] as number) - x) * kx;
      const by = ((c[2 * i + 3] as number) - y) * ky;
      const dx = bx - ax;
      const dy = by - ay;
      const len2 = dx * dx + dy * dy;
      let t = len2 === 0 ? 0 : -(ax * dx + ay * dy) / len2;
      if (t < 0) t = 0;
      else if (t > 1) t = 1;
      const px = ax + t * dx;
      const py = ay + t * dy;
      const d2 = px * px + py * py;
      if (d2 < best) best = d2;
    }
    start = end;
  }
  return Math.sqrt(best);
}

export function metersPerDegreeLon(lat: number): number {
  return METERS_PER_DEGREE * Math.cos((lat * Math.PI) / 180);
}

/** Distance in meters from a point to the nearest boundary edge (outer ring or hole) of a geometry. */
export function distanceToBoundaryMeters(geometry: GridGeometry, lon: number, lat: number): number {
  const kx = metersPerDegreeLon(lat);
  let best = Infinity;
  for (const poly of compileGeometry(geometry)) {
    const d = distanceToPolygonBoundary(poly, lon, lat, kx);
    if (d < best) best = d;
  }
  return best;
}

/** Great-circle distance in meters (haversine). */
export function haversineMeters(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Bounding box of a geometry's finite coordinates; null when it has none. */
export function geometryBBox(geometry: GridGeometry): BBox | null {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const rings of polygonsOf(geometry)) {
    for (const ring of rings) {
      for (const p of ring) {
        const x = p[0];
        const y = p[1];
        if (x === undefined || y === undefined || !Number.isFinite(x) || !Number.isFinite(y)) continue;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  return minX === Infinity ? null : [minX, minY, maxX, maxY];
}

/** Shoelace signed area in square degrees: > 0 counter-clockwise (a GeoJSON exterior ring). */
export function ringSignedArea(ring: Position[]): number {
  let sum = 0;
  for (let i = 0; i + 1 < ring.length; i++) {
    const a = ring[i] as Position;
    const b = ring[i + 1] as Position;
    sum += (a[0] as number) * (b[1] as number) - (b[0] as number) * (a[1] as number);
  }
  return sum / 2;
}
