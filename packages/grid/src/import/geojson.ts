import { AreaType, GridKind } from '@griddispatch/contracts';
import { checkGeometry } from '../validate-polygons.ts';
import type { GridGeometry, GridRecord } from '../types.ts';
import { ADMIN_CODE } from './formats.ts';
import { ProblemList, type ParsedFile } from './problems.ts';

export const GRIDS_FILE = 'grids.geojson';

export interface GeoJsonParseOptions {
  file?: string;
  maxProblems?: number;
}

/**
 * Line on which each element of the root object's `features` array starts, found by a scan that
 * skips strings; JSON.parse gives no positions. Empty when the layout is not the expected one.
 */
export function featureStartLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let lastKey: string | null = null;
  let featuresDepth = -1;
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13) continue;
    if (depth === featuresDepth && expectValue && c !== 93 /* ] */) {
      lines.push(line);
      expectValue = false;
    }
    if (c === 34 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 34) j += text.charCodeAt(j) === 92 ? 2 : 1;
      if (depth === 1) lastKey = text.slice(i + 1, j);
      i = j;
      continue;
    }
    if (c === 123 /* { */ || c === 91 /* [ */) {
      depth++;
      if (c === 91 && depth === 2 && lastKey === 'features' && featuresDepth === -1) {
        featuresDepth = 2;
        expectValue = true;
      }
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      if (depth === featuresDepth && c === 93) featuresDepth = -2; // array closed; stop recording
      depth--;
    } else if (c === 44 /* , */ && depth === featuresDepth) {
      expectValue = true;
    }
  }
  return lines;
}

/** Line of a character offset, for JSON syntax errors. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

type Props = Record<string, unknown>;

/** A property by its snake_case name, also accepting the camelCase spelling. */
function prop(props: Props, snake: string): unknown {
  if (snake in props) return props[snake];
  const camel = snake.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
  return props[camel];
}

/**
 * Reads `grids.geojson`: a FeatureCollection, one Feature per grid with properties `id`, `name`,
 * `kind`, `parent_id`, `area_type`, `community_code` and a Polygon/MultiPolygon geometry (or null).
 * Per-feature problems carry the feature's line. `districts` is left empty: it comes from
 * districts.csv (see `parseImportFiles`).
 */
export function parseGridsGeoJson(text: string, options: GeoJsonParseOptions = {}): ParsedFile<GridRecord> {
  const file = options.file ?? GRIDS_FILE;
  const problems = new ProblemList(file, options.maxProblems);
  const records: GridRecord[] = [];
  const lines: number[] = [];
  const done = (): ParsedFile<GridRecord> => ({ file, records, lines, problems: problems.done() });

  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const pos = /position (\d+)/.exec(message);
    problems.add(pos ? lineAt(text, Number(pos[1])) : null, 'syntax', `not valid JSON: ${message}`);
    return done();
  }
  const root = doc as { type?: unknown; features?: unknown };
  if (typeof doc !== 'object' || doc === null || root.type !== 'FeatureCollection' || !Array.isArray(root.features)) {
    problems.add(1, 'syntax', 'expected a GeoJSON FeatureCollection with a "features" array');
    return done();
  }
  const features = root.features as unknown[];
  const starts = featureStartLines(text);
  const lineOf = (i: number): number | null => (starts.length === features.length ? (starts[i] ?? null) : null);
  const seen = new Map<string, number>();

  features.forEach((feature, i) => {
    const line = lineOf(i);
    const where = `feature ${i + 1}`;
    if (typeof feature !== 'object' || feature === null || (feature as { type?: unknown }).type !== 'Feature') {
      problems.add(line, 'syntax', `${where} is not a GeoJSON Feature`);
      return;
    }
    const f = feature as { id?: unknown; properties?: unknown; geometry?: unknown };
    const props: Props = typeof f.properties === 'object' && f.properties !== null ? (f.properties as Props) : {};
    const rawId = prop(props, 'id') ?? f.id;
    const id = typeof rawId === 'number' ? String(rawId) : typeof rawId === 'string' ? rawId.trim() : '';
    const label = id ? `grid ${id}` : where;
    let ok = true;
    const fail = (code: 'missing_value' | 'invalid_value', message: string): void => {
      ok = false;
      problems.add(line, code, `${label}: ${message}`);
    };
    if (!id) fail('missing_value', 'properties.id is missing');
    else if (id.length > 64) fail('invalid_value', 'id is longer than 64 characters');

    const name = prop(props, 'name');
    if (typeof name !== 'string' || name.trim() === '') fail('missing_value', 'properties.name is missing');
    const kind = GridKind.safeParse(prop(props, 'kind'));
    if (!kind.success) fail('invalid_value', `kind ${JSON.stringify(prop(props, 'kind'))} must be one of ${GridKind.options.join(', ')}`);
    const areaType = AreaType.safeParse(prop(props, 'area_type'));
    if (!areaType.success) fail('invalid_value', `area_type ${JSON.stringify(prop(props, 'area_type'))} must be one of ${AreaType.options.join(', ')}`);
    const parent = prop(props, 'parent_id');
    if (parent !== undefined && parent !== null && (typeof parent !== 'string' || parent.length > 64))
      fail('invalid_value', 'parent_id must be a string or null');
    const community = prop(props, 'community_code');
    if (community !== undefined && community !== null && community !== '' && (typeof community !== 'string' || !ADMIN_CODE.test(community))) {
      fail('invalid_value', `community_code ${JSON.stringify(community)} is not an administrative code of 6-12 digits`);
    }
    let polygon: GridGeometry | null = null;
    if (f.geometry !== null && f.geometry !== undefined) {
      const geometryProblems = checkGeometry(f.geometry);
      for (const p of geometryProblems) {
        ok = false;
        problems.add(line, p.code, `${label}: ${p.message}`);
      }
      if (geometryProblems.length === 0) {
        const g = f.geometry as GridGeometry;
        polygon = { type: g.type, coordinates: g.coordinates } as GridGeometry;
      }
    }
    if (!ok || !kind.success || !areaType.success) return;
    const first = seen.get(id);
    if (first !== undefined) {
      problems.add(line, 'duplicate', `duplicate grid id '${id}' (first ${first > 0 ? `on line ${first}` : 'earlier in the file'})`);
      return;
    }
    seen.set(id, line ?? 0);
    records.push({
      id,
      name: (name as string).trim(),
      kind: kind.data,
      parentId: typeof parent === 'string' && parent.trim() !== '' ? parent.trim() : null,
      areaType: areaType.data,
      communityCode: typeof community === 'string' && community !== '' ? community : null,
      polygon,
      districts: [],
    });
    lines.push(line ?? 0);
  });
  return done();
}

/** A grid's properties under their file (and table) names: what grids.geojson holds beside the geometry. */
export function gridProperties(g: GridRecord) {
  return { id: g.id, name: g.name, kind: g.kind, parent_id: g.parentId, area_type: g.areaType, community_code: g.communityCode };
}

/**
 * Writes grids as `grids.geojson`, one Feature per line so that problem reports point at a grid.
 * `districts` is not written (districts.csv carries the 台区 → grid mapping).
 */
export function gridsToGeoJson(grids: readonly GridRecord[]): string {
  const features = grids.map((g) =>
    JSON.stringify({
      type: 'Feature',
      id: g.id,
      properties: gridProperties(g),
      geometry: g.polygon,
    }),
  );
  return `{"type":"FeatureCollection","features":[\n${features.join(',\n')}\n]}\n`;
}
