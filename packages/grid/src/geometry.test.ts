import { describe, expect, it } from 'vitest';
import { containsPoint, distanceToBoundaryMeters, geometryBBox, haversineMeters, locatePoint, ringSignedArea } from './geometry.ts';
import type { GridGeometry } from './types.ts';

const square: GridGeometry = {
  type: 'Polygon',
  coordinates: [
    [
      [114, 30],
      [114.1, 30],
      [114.1, 30.1],
      [114, 30.1],
      [114, 30],
    ],
    [
      [114.04, 30.04],
      [114.04, 30.06],
      [114.06, 30.06],
      [114.06, 30.04],
      [114.04, 30.04],
    ],
  ],
};

describe('geometry', () => {
  it('locates points inside, in a hole, on the outer and on the hole boundary', () => {
    expect(locatePoint(square, 114.02, 30.02)).toBe('inside');
    expect(locatePoint(square, 114.05, 30.05)).toBe('outside');
    expect(locatePoint(square, 114.1, 30.05)).toBe('boundary');
    expect(locatePoint(square, 114.06, 30.05)).toBe('boundary');
    expect(locatePoint(square, 114, 30)).toBe('boundary');
    expect(locatePoint(square, 114.2, 30.05)).toBe('outside');
    expect(containsPoint(square, 114.1, 30.05)).toBe(true);
  });

  it('handles rings given clockwise, and unclosed rings, the same way', () => {
    const cw: GridGeometry = {
      type: 'Polygon',
      coordinates: [
        [
          [114, 30],
          [114, 30.1],
          [114.1, 30.1],
          [114.1, 30],
        ],
      ],
    };
    expect(locatePoint(cw, 114.05, 30.05)).toBe('inside');
    expect(locatePoint(cw, 114.15, 30.05)).toBe('outside');
    expect(locatePoint(cw, 114.05, 30)).toBe('boundary'); // the implicit closing edge
  });

  it('treats every part of a MultiPolygon', () => {
    const multi: GridGeometry = {
      type: 'MultiPolygon',
      coordinates: [
        [
          [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 1],
            [0, 0],
          ],
        ],
        [
          [
            [5, 5],
            [6, 5],
            [6, 6],
            [5, 6],
            [5, 5],
          ],
        ],
      ],
    };
    expect(locatePoint(multi, 5.5, 5.5)).toBe('inside');
    expect(locatePoint(multi, 3, 3)).toBe('outside');
    expect(geometryBBox(multi)).toEqual([0, 0, 6, 6]);
  });

  it('measures the distance to the nearest edge in meters, holes included', () => {
    // 0.01° of latitude ≈ 1,112 m; from the hole's centre the nearest edge is 0.01° away.
    expect(distanceToBoundaryMeters(square, 114.05, 30.05)).toBeCloseTo(963, -1);
    expect(distanceToBoundaryMeters(square, 114.05, 30.11)).toBeCloseTo(1112, -1);
    // Agrees with the haversine distance to the nearest point over a few kilometres.
    const d = distanceToBoundaryMeters(square, 114.15, 30.05);
    expect(Math.abs(d - haversineMeters(114.15, 30.05, 114.1, 30.05))).toBeLessThan(1);
  });

  it('computes ring orientation (GeoJSON exteriors are counter-clockwise)', () => {
    expect(ringSignedArea(square.coordinates[0] as number[][])).toBeGreaterThan(0);
    expect(ringSignedArea(square.coordinates[1] as number[][])).toBeLessThan(0);
  });
});
