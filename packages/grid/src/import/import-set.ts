import type { CommunityRecord, CustomerRecord, DistrictRecord, FeederRecord, GridRecord, RosterEntry, StaffRecord } from '../types.ts';
import { validatePolygons } from '../validate-polygons.ts';
import { CSV_FORMATS } from './formats.ts';
import { GRIDS_FILE, parseGridsGeoJson } from './geojson.ts';
import { parseCsv } from './parse-csv.ts';
import { DEFAULT_MAX_PROBLEMS, ProblemList, sortProblems, type ImportProblem, type ParsedFile } from './problems.ts';

/** Parsed import files; each one is optional so a station can re-import just its customers. */
export interface ParsedImport {
  grids?: ParsedFile<GridRecord>;
  districts?: ParsedFile<DistrictRecord>;
  customers?: ParsedFile<CustomerRecord>;
  staff?: ParsedFile<StaffRecord>;
  rosters?: ParsedFile<RosterEntry>;
  communities?: ParsedFile<CommunityRecord>;
  feeders?: ParsedFile<FeederRecord>;
}

/**
 * Ids already in the database, for files imported without the file they refer to (customers.csv
 * alone is checked against the stored 台区). Files in the same import take precedence.
 */
export interface KnownIds {
  gridIds?: Iterable<string>;
  districtCodes?: Iterable<string>;
  staffIds?: Iterable<string>;
  feederCodes?: Iterable<string>;
  /** The stored grids (for parent links and overlap checks against what is already there). */
  grids?: readonly GridRecord[];
}

export interface CheckOptions {
  known?: KnownIds;
  maxProblems?: number;
  /** Run the polygon overlap / self-intersection checks (the slow part at 10,000 grids). Default true. */
  polygons?: boolean;
}

/**
 * Cross-file checks: references to unknown grids, 台区, staff and feeders, parent cycles,
 * community codes mapped to two grids, overlapping polygons. Problems carry the line of the row
 * that holds the bad reference.
 */
export function checkImport(parsed: ParsedImport, options: CheckOptions = {}): ImportProblem[] {
  const max = options.maxProblems ?? DEFAULT_MAX_PROBLEMS;
  const known = options.known ?? {};
  const out: ImportProblem[] = [];

  const gridIds = new Set<string>(known.gridIds ?? []);
  for (const g of known.grids ?? []) gridIds.add(g.id);
  // With a grids file in the import it replaces the stored grids as the reference set, so
  // a grid removed from the file is no longer a valid target.
  if (parsed.grids) {
    gridIds.clear();
    for (const g of parsed.grids.records) gridIds.add(g.id);
  }
  const districtCodes = parsed.districts ? new Set(parsed.districts.records.map((d) => d.code)) : new Set(known.districtCodes ?? []);
  const staffIds = parsed.staff ? new Set(parsed.staff.records.map((s) => s.id)) : new Set(known.staffIds ?? []);
  const feederCodes = parsed.feeders ? new Set(parsed.feeders.records.map((f) => f.code)) : known.feederCodes ? new Set(known.feederCodes) : null;

  function each<T>(file: ParsedFile<T> | undefined, check: (record: T, add: (code: ImportProblem['code'], message: string) => void) => void): void {
    if (!file) return;
    const list = new ProblemList(file.file, max);
    file.records.forEach((r, i) => check(r, (code, message) => list.add(file.lines[i] ?? null, code, message)));
    out.push(...list.done());
  }

  const gridsById = new Map<string, GridRecord>();
  for (const g of known.grids ?? []) gridsById.set(g.id, g);
  if (parsed.grids) {
    gridsById.clear();
    for (const g of parsed.grids.records) gridsById.set(g.id, g);
  }

  each(parsed.grids, (g, add) => {
    if (g.parentId !== null && !gridIds.has(g.parentId)) add('unknown_grid', `grid ${g.id}: parent_id '${g.parentId}' is not a known grid`);
    // Walk up: a cycle makes "the area grid of this grid" undefined.
    const seen = new Set<string>([g.id]);
    let cur = g.parentId;
    while (cur !== null) {
      if (seen.has(cur)) {
        add('cycle', `grid ${g.id}: parent chain loops back to ${cur}`);
        break;
      }
      seen.add(cur);
      cur = gridsById.get(cur)?.parentId ?? null;
    }
  });

  each(parsed.districts, (d, add) => {
    if (!gridIds.has(d.gridId)) add('unknown_grid', `台区 ${d.code}: grid_id '${d.gridId}' is not a known grid`);
    if (feederCodes !== null && !feederCodes.has(d.feederCode)) add('unknown_feeder', `台区 ${d.code}: feeder_code '${d.feederCode}' is not in the feeders`);
  });

  each(parsed.customers, (c, add) => {
    if (!districtCodes.has(c.districtCode)) add('unknown_district', `account ${c.accountNo}: 台区 '${c.districtCode}' is not a known 台区 code`);
  });

  each(parsed.staff, (s, add) => {
    for (const a of s.assignments) {
      if (!gridIds.has(a.gridId)) add('unknown_grid', `staff ${s.id}: ${a.role} of unknown grid '${a.gridId}'`);
    }
  });

  each(parsed.rosters, (r, add) => {
    if (!staffIds.has(r.staffId)) add('unknown_staff', `roster for unknown staff_id '${r.staffId}'`);
  });

  each(parsed.feeders, (f, add) => {
    if (f.areaGridId !== null && !gridIds.has(f.areaGridId)) add('unknown_grid', `feeder ${f.code}: area_grid_id '${f.areaGridId}' is not a known grid`);
  });

  const communityOwner = new Map<string, string>();
  for (const g of gridsById.values()) if (g.communityCode) communityOwner.set(g.communityCode, g.id);
  each(parsed.communities, (c, add) => {
    if (!gridIds.has(c.gridId)) add('unknown_grid', `community ${c.code}: grid_id '${c.gridId}' is not a known grid`);
    const owner = communityOwner.get(c.code);
    if (owner !== undefined && owner !== c.gridId) add('conflict', `community ${c.code} maps to ${c.gridId} here but grid ${owner} has it as community_code`);
  });

  if (parsed.grids && options.polygons !== false) {
    const lineOf = new Map<string, number>();
    parsed.grids.records.forEach((g, i) => lineOf.set(g.id, parsed.grids?.lines[i] ?? 0));
    const list = new ProblemList(parsed.grids.file, max);
    for (const p of validatePolygons(parsed.grids.records)) {
      const lines = p.gridIds.map((id) => lineOf.get(id)).filter((l): l is number => l !== undefined && l > 0);
      const suffix = p.code === 'overlap' && lines.length === 2 ? ` (lines ${lines[0]} and ${lines[1]})` : '';
      list.add(lines[0] ?? null, p.code, `${p.message}${suffix}`);
    }
    out.push(...list.done());
  }
  return out;
}

/** The import files as text, by kind. Any subset may be given. */
export interface ImportFileTexts {
  grids?: string;
  districts?: string;
  customers?: string;
  staff?: string;
  rosters?: string;
  communities?: string;
  feeders?: string;
}

export interface ImportResult {
  grids: GridRecord[];
  districts: DistrictRecord[];
  customers: CustomerRecord[];
  staff: StaffRecord[];
  rosters: RosterEntry[];
  communities: CommunityRecord[];
  feeders: FeederRecord[];
  /** Every problem, sorted by file and line. Apply nothing unless this is empty. */
  problems: ImportProblem[];
}

/**
 * Parses and checks a set of import files in one go (file syntax, values, duplicates, references,
 * polygons). `grids[].districts` is filled from districts.csv when both are given.
 */
export function parseImportFiles(
  texts: ImportFileTexts,
  options: CheckOptions & { fileNames?: Partial<Record<keyof ImportFileTexts, string>> } = {},
): ImportResult {
  const names = options.fileNames ?? {};
  const opts = (kind: keyof ImportFileTexts) => ({
    file: names[kind] ?? (kind === 'grids' ? GRIDS_FILE : CSV_FORMATS[kind].file),
    maxProblems: options.maxProblems,
  });
  const parsed: ParsedImport = {};
  if (texts.grids !== undefined) parsed.grids = parseGridsGeoJson(texts.grids, opts('grids'));
  if (texts.districts !== undefined) parsed.districts = parseCsv('districts', texts.districts, opts('districts'));
  if (texts.customers !== undefined) parsed.customers = parseCsv('customers', texts.customers, opts('customers'));
  if (texts.staff !== undefined) parsed.staff = parseCsv('staff', texts.staff, opts('staff'));
  if (texts.rosters !== undefined) parsed.rosters = parseCsv('rosters', texts.rosters, opts('rosters'));
  if (texts.communities !== undefined) parsed.communities = parseCsv('communities', texts.communities, opts('communities'));
  if (texts.feeders !== undefined) parsed.feeders = parseCsv('feeders', texts.feeders, opts('feeders'));

  const problems: ImportProblem[] = [];
  for (const f of Object.values(parsed) as ParsedFile<unknown>[]) problems.push(...f.problems);
  problems.push(...checkImport(parsed, options));

  const grids = parsed.grids?.records ?? [];
  const districts = parsed.districts?.records ?? [];
  linkDistricts(grids, districts);
  return {
    grids,
    districts,
    customers: parsed.customers?.records ?? [],
    staff: parsed.staff?.records ?? [],
    rosters: parsed.rosters?.records ?? [],
    communities: parsed.communities?.records ?? [],
    feeders: parsed.feeders?.records ?? [],
    problems: sortProblems(problems),
  };
}

/** Sets each grid's `districts` to the codes of the 台区 that name it, in file order. */
export function linkDistricts(grids: GridRecord[], districts: readonly DistrictRecord[]): void {
  const byGrid = new Map<string, string[]>();
  for (const d of districts) {
    const list = byGrid.get(d.gridId);
    if (list) list.push(d.code);
    else byGrid.set(d.gridId, [d.code]);
  }
  for (const g of grids) g.districts = byGrid.get(g.id) ?? [];
}
