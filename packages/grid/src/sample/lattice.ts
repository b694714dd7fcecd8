import type { Position } from '../types.ts';
import type { Rng } from './prng.ts';

/**
 * A jittered lattice: (cols+1)×(rows+1) corner points moved randomly, and every cell edge bent
 * through a few randomly offset points. Neighbouring cells share the very same edge points, so
 * polygons built from the lattice tile the plane without gaps or overlaps, yet look hand-drawn.
 * Coordinates are rounded to 6 decimals (~0.1 m) once, here, so shared points stay identical
 * through JSON export and re-import.
 */
export interface Lattice {
  cols: number;
  rows: number;
  dx: number;
  dy: number;
  /** Corner (i, j) at index j*(cols+1)+i. */
  corners: Position[];
  /** Bend points of the edge (i,j)→(i+1,j), at index j*cols+i. */
  horizontal: Position[][];
  /** Bend points of the edge (i,j)→(i,j+1), at index j*(cols+1)+i. */
  vertical: Position[][];
}

export interface LatticeOptions {
  x0: number;
  y0: number;
  cols: number;
  rows: number;
  dx: number;
  dy: number;
  /** Corner displacement as a fraction of the cell size. */
  jitter?: number;
  /** Bend points per edge. */
  bends?: number;
  /** Sideways offset of bend points as a fraction of the edge length. */
  bendJitter?: number;
}

export const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

export function makeLattice(rng: Rng, o: LatticeOptions): Lattice {
  const jitter = o.jitter ?? 0.18;
  const bends = o.bends ?? 2;
  const bendJitter = o.bendJitter ?? 0.06;
  const corners: Position[] = [];
  for (let j = 0; j <= o.rows; j++) {
    for (let i = 0; i <= o.cols; i++) {
      corners.push([round6(o.x0 + (i + rng.range(-jitter, jitter)) * o.dx), round6(o.y0 + (j + rng.range(-jitter, jitter)) * o.dy)]);
    }
  }
  const corner = (i: number, j: number): Position => corners[j * (o.cols + 1) + i] as Position;
  const bend = (a: Position, b: Position): Position[] => {
    const ax = a[0] as number,
      ay = a[1] as number,
      bx = b[0] as number,
      by = b[1] as number;
    const pts: Position[] = [];
    for (let k = 1; k <= bends; k++) {
      const t = k / (bends + 1);
      const off = rng.range(-bendJitter, bendJitter);
      // Perpendicular to a→b, scaled by the edge length.
      pts.push([round6(ax + t * (bx - ax) - off * (by - ay)), round6(ay + t * (by - ay) + off * (bx - ax))]);
    }
    return pts;
  };
  const horizontal: Position[][] = [];
  for (let j = 0; j <= o.rows; j++) for (let i = 0; i < o.cols; i++) horizontal.push(bend(corner(i, j), corner(i + 1, j)));
  const vertical: Position[][] = [];
  for (let j = 0; j < o.rows; j++) for (let i = 0; i <= o.cols; i++) vertical.push(bend(corner(i, j), corner(i, j + 1)));
  return { cols: o.cols, rows: o.rows, dx: o.dx, dy: o.dy, corners, horizontal, vertical };
}

/**
 * The closed, counter-clockwise ring around the block of cells [c0, c1) × [r0, r1), following
 * the lattice edges (so it matches the rings of the cells inside it point for point).
 */
export function blockRing(l: Lattice, c0: number, r0: number, c1: number, r1: number): Position[] {
  const corner = (i: number, j: number): Position => l.corners[j * (l.cols + 1) + i] as Position;
  const h = (i: number, j: number): Position[] => l.horizontal[j * l.cols + i] as Position[];
  const v = (i: number, j: number): Position[] => l.vertical[j * (l.cols + 1) + i] as Position[];
  const ring: Position[] = [];
  for (let i = c0; i < c1; i++) ring.push(corner(i, r0), ...h(i, r0));
  for (let j = r0; j < r1; j++) ring.push(corner(c1, j), ...v(c1, j));
  for (let i = c1; i > c0; i--) ring.push(corner(i, r1), ...[...h(i - 1, r1)].reverse());
  for (let j = r1; j > r0; j--) ring.push(corner(c0, j), ...[...v(c0, j - 1)].reverse());
  ring.push(corner(c0, r0));
  return ring.map((p) => [p[0] as number, p[1] as number]);
}

/** A point of cell (c, r) by bilinear interpolation of its corners, u/v in [0, 1]. */
export function cellPoint(l: Lattice, c: number, r: number, u: number, v: number): [number, number] {
  const corner = (i: number, j: number): Position => l.corners[j * (l.cols + 1) + i] as Position;
  const a = corner(c, r),
    b = corner(c + 1, r),
    d = corner(c, r + 1),
    e = corner(c + 1, r + 1);
  const x = (1 - v) * ((1 - u) * (a[0] as number) + u * (b[0] as number)) + v * ((1 - u) * (d[0] as number) + u * (e[0] as number));
  const y = (1 - v) * ((1 - u) * (a[1] as number) + u * (b[1] as number)) + v * ((1 - u) * (d[1] as number) + u * (e[1] as number));
  return [x, y];
}

/** A small clockwise ring (a hole) around (cx, cy): a jittered octagon of radius r degrees. */
export function holeRing(rng: Rng, cx: number, cy: number, rx: number, ry: number): Position[] {
  // Unit octagon, clockwise; constants rather than Math.cos so the output never depends on libm.
  const h = Math.SQRT1_2;
  const unit = [
    [1, 0],
    [h, -h],
    [0, -1],
    [-h, -h],
    [-1, 0],
    [-h, h],
    [0, 1],
    [h, h],
  ] as const;
  const ring: Position[] = [];
  for (const [ux, uy] of unit) {
    const s = rng.range(0.75, 1.1);
    ring.push([round6(cx + ux * rx * s), round6(cy + uy * ry * s)]);
  }
  ring.push(ring[0] as Position);
  return ring;
}
