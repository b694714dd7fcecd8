import { describe, expect, it } from 'vitest';
import type { GridGeometry, GridRecord, Position } from './types.ts';
import { checkGeometry, validatePolygons } from './validate-polygons.ts';

const rect = (x0: number, y0: number, x1: number, y1: number): Position[] => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
  [x0, y0],
];
const poly = (...rings: Position[][]): GridGeometry => ({ type: 'Polygon', coordinates: rings });
const grid = (id: string, polygon: GridGeometry | null, extra: Partial<GridRecord> = {}): GridRecord => ({
  id,
  name: id,
  kind: 'district',
  parentId: null,
  areaType: 'urban',
  communityCode: null,
  polygon,
  districts: [],
  ...extra,
});

describe('validatePolygons', () => {
  it('accepts grids that only share borders and corners', () => {
    const grids = [
      grid('A', poly(rect(0, 0, 1, 1))),
      grid('B', poly(rect(1, 0, 2, 1))),
      grid('C', poly(rect(1, 1, 2, 2))),
      grid(
        'D',
        poly([
          [0, 1],
          [0.5, 1],
          [1, 1],
          [1, 2],
          [0, 2],
          [0, 1],
        ]),
      ), // extra vertex on the shared edge
    ];
    expect(validatePolygons(grids)).toEqual([]);
  });

  it('reports a partial overlap with both ids', () => {
    const problems = validatePolygons([grid('B', poly(rect(0.5, 0.5, 2, 2))), grid('A', poly(rect(0, 0, 1, 1)))]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'overlap', gridIds: ['A', 'B'] });
    expect(problems[0]?.message).toContain('grids A and B (both district) overlap near');
  });

  it('reports containment, identical polygons and touching-but-covering cases', () => {
    expect(validatePolygons([grid('A', poly(rect(0, 0, 3, 3))), grid('B', poly(rect(1, 1, 2, 2)))])).toMatchObject([{ code: 'overlap', gridIds: ['A', 'B'] }]);
    expect(validatePolygons([grid('A', poly(rect(0, 0, 1, 1))), grid('B', poly(rect(0, 0, 1, 1)))])).toMatchObject([{ code: 'overlap' }]);
    // B lies inside A sharing A's left edge: no edge crosses another.
    expect(validatePolygons([grid('A', poly(rect(0, 0, 2, 1))), grid('B', poly(rect(0, 0, 1, 1)))])).toMatchObject([{ code: 'overlap' }]);
  });

  it('accepts a grid that fills another grid’s hole exactly', () => {
    const holed = grid('A', poly(rect(0, 0, 3, 3), [...rect(1, 1, 2, 2)].reverse()));
    expect(validatePolygons([holed, grid('B', poly(rect(1, 1, 2, 2)))])).toEqual([]);
    expect(validatePolygons([holed, grid('B', poly(rect(0.5, 0.5, 2, 2)))])).toMatchObject([{ code: 'overlap' }]);
  });

  it('checks overlap only within a kind and not between a grid and its ancestors', () => {
    const area = grid('AREA', poly(rect(0, 0, 3, 3)), { kind: 'area' });
    const town = grid('TOWN', poly(rect(0, 0, 3, 3)), { kind: 'area' });
    const village = grid('VILLAGE', poly(rect(1, 1, 2, 2)), { kind: 'area', parentId: 'TOWN' });
    expect(validatePolygons([area, grid('D', poly(rect(1, 1, 2, 2)))])).toEqual([]);
    expect(validatePolygons([town, village])).toEqual([]);
    expect(validatePolygons([area, town])).toMatchObject([{ code: 'overlap', gridIds: ['AREA', 'TOWN'] }]);
  });

  it('checks MultiPolygon parts against other grids', () => {
    const multi: GridGeometry = { type: 'MultiPolygon', coordinates: [[rect(0, 0, 1, 1)], [rect(5, 5, 6, 6)]] };
    expect(validatePolygons([grid('M', multi), grid('X', poly(rect(5.5, 5.5, 7, 7)))])).toMatchObject([{ code: 'overlap', gridIds: ['M', 'X'] }]);
  });

  it('reports ring problems and a self-intersecting (bow-tie) ring', () => {
    const problems = validatePolygons([
      grid(
        'OPEN',
        poly([
          [0, 0],
          [1, 0],
          [1, 1],
          [0, 1],
        ]),
      ),
      grid(
        'SHORT',
        poly([
          [0, 0],
          [1, 0],
          [0, 0],
        ]),
      ),
      grid(
        'FAR',
        poly([
          [0, 0],
          [181, 0],
          [1, 1],
          [0, 0],
        ]),
      ),
      grid(
        'BOWTIE',
        poly([
          [10, 10],
          [11, 11],
          [11, 10],
          [10, 11],
          [10, 10],
        ]),
      ),
    ]);
    expect(problems.map((p) => [p.code, p.gridIds[0]])).toEqual([
      ['ring_not_closed', 'OPEN'],
      ['ring_too_short', 'SHORT'],
      ['coordinate_out_of_range', 'FAR'],
      ['self_intersection', 'BOWTIE'],
    ]);
    expect(
      validatePolygons(
        [
          grid(
            'BOWTIE',
            poly([
              [10, 10],
              [11, 11],
              [11, 10],
              [10, 11],
              [10, 10],
            ]),
          ),
        ],
        { selfIntersection: false },
      ),
    ).toEqual([]);
  });

  it('describes malformed geometry objects', () => {
    expect(checkGeometry({ type: 'Point', coordinates: [1, 2] })[0]?.message).toContain('must be Polygon or MultiPolygon');
    expect(
      checkGeometry({
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            ['x', 1],
          ],
        ],
      })[0],
    ).toMatchObject({ code: 'invalid_geometry' });
    expect(checkGeometry(null)[0]).toMatchObject({ code: 'invalid_geometry' });
    expect(checkGeometry({ type: 'MultiPolygon', coordinates: [] })[0]).toMatchObject({ code: 'invalid_geometry' });
  });
});
