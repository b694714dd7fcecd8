import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Pool, PoolClient } from 'pg';
import {
  checkImport,
  CSV_FORMATS,
  GRIDS_FILE,
  parseCsv,
  parseCsvStream,
  parseGridsGeoJson,
  sortProblems,
  type CsvKind,
  type GridRecord,
  type ImportProblem,
  type KnownIds,
  type ParsedFile,
  type ParsedImport,
} from '@griddispatch/grid';
import { withTransaction } from '@griddispatch/db';
import { migrateRouting } from '../schema-migrations.ts';
import { applyRecords, defaultName, IMPORT_LOCK, ORDER, type ApplyCounts, type ImportKind, type ImportProgress, type ImportRecords } from './apply-records.ts';

export type { ApplyCounts, ImportKind, ImportProgress } from './apply-records.ts';

// `griddispatch import`: read the station's files (grids.geojson and the CSV files of
// packages/grid's formats), check all of them against each other and the stored data, and only
// then write everything in ONE transaction, so a failed import leaves nothing half-applied.
// Records are upserted by their codes, so re-importing a corrected file updates in place. After
// the commit the data version is bumped and NOTIFYed; running routers reload their index.

/** A file path, or the text itself (tests, uploads) with the name used in problem reports. */
export type ImportSource = string | { text: string; name?: string };

export type ImportFiles = Partial<Record<ImportKind, ImportSource>>;

export interface ImportOptions {
  onProgress?: (progress: ImportProgress) => void;
  /** Problems listed per file before the rest are only counted. */
  maxProblems?: number;
}

export type ImportReport = { ok: true; version: number; counts: Partial<Record<ImportKind, ApplyCounts>> } | { ok: false; problems: ImportProblem[] };

/** The standard import files found in a directory (grids.geojson, districts.csv, …). */
export async function importFilesIn(dir: string): Promise<ImportFiles> {
  const present = new Set(await readdir(dir));
  const files: ImportFiles = {};
  for (const kind of ORDER) if (present.has(defaultName(kind))) files[kind] = join(dir, defaultName(kind));
  return files;
}

async function parseOne(kind: ImportKind, source: ImportSource, options: ImportOptions): Promise<ParsedFile<unknown>> {
  const file = typeof source === 'string' ? basename(source) : (source.name ?? defaultName(kind));
  const common = {
    file,
    maxProblems: options.maxProblems,
    onProgress: ({ rows, bytes }: { rows: number; bytes: number }) => options.onProgress?.({ phase: 'read', file, rows, bytes }),
  };
  if (kind === 'grids') {
    const text = typeof source === 'string' ? await readFile(source, 'utf8') : source.text;
    const parsed = parseGridsGeoJson(text, { file, maxProblems: options.maxProblems });
    options.onProgress?.({ phase: 'read', file, rows: parsed.records.length, bytes: Buffer.byteLength(text) });
    return parsed;
  }
  const csvKind: CsvKind = kind;
  if (typeof source === 'string') {
    // Streamed: a million-row customers file is parsed while it is read, with progress.
    return parseCsvStream(csvKind, createReadStream(source), { ...common, progressEveryRows: 50_000 });
  }
  return parseCsv(csvKind, source.text, common);
}

async function knownIds(client: PoolClient, parsed: ParsedImport): Promise<KnownIds> {
  const ids = async (sql: string) => (await client.query<{ id: string }>(sql)).rows.map((r) => r.id);
  const known: KnownIds = {};
  if (!parsed.grids) {
    const { rows } = await client.query<{
      id: string;
      name: string;
      kind: GridRecord['kind'];
      parent_id: string | null;
      area_type: GridRecord['areaType'];
      community_code: string | null;
    }>('SELECT id, name, kind, parent_id, area_type, community_code FROM routing.grids');
    // Parent links and community codes are what the checks need; polygons of stored grids are
    // not re-validated.
    known.grids = rows.map((g) => ({
      id: g.id,
      name: g.name,
      kind: g.kind,
      parentId: g.parent_id,
      areaType: g.area_type,
      communityCode: g.community_code,
      polygon: null,
      districts: [],
    }));
  }
  if (!parsed.districts) known.districtCodes = await ids('SELECT code AS id FROM routing.districts');
  if (!parsed.staff) known.staffIds = await ids('SELECT id FROM routing.staff');
  if (!parsed.feeders) {
    const feeders = await ids('SELECT code AS id FROM routing.feeders');
    // Without any stored feeders the feeder codes of 台区 are not checked (feeders.csv is optional).
    if (feeders.length > 0) known.feederCodes = feeders;
  }
  return known;
}

/**
 * Reads, checks and applies a set of import files. Any problem → `{ ok: false, problems }` with
 * file and line of each, and nothing written. Files are optional: a station may re-import only
 * its customers; references are then checked against the stored data.
 */
export async function importData(pool: Pool, files: ImportFiles, options: ImportOptions = {}): Promise<ImportReport> {
  const kinds = ORDER.filter((k) => files[k] !== undefined);
  if (kinds.length === 0) {
    return {
      ok: false,
      problems: [
        {
          file: '(import)',
          line: null,
          code: 'missing_value',
          message: `no import files given (expected any of ${[GRIDS_FILE, ...Object.values(CSV_FORMATS).map((f) => f.file)].join(', ')})`,
        },
      ],
    };
  }
  await migrateRouting(pool);
  const parsed: ParsedImport = {};
  for (const kind of kinds) {
    (parsed as Record<ImportKind, ParsedFile<unknown>>)[kind] = await parseOne(kind, files[kind] as ImportSource, options);
  }
  const fileProblems = (Object.values(parsed) as ParsedFile<unknown>[]).flatMap((f) => f.problems);

  const report = await withTransaction(pool, async (client): Promise<ImportReport> => {
    // Serialise imports before reading what is stored, so the checks see what we will write over.
    await client.query(`SELECT ${IMPORT_LOCK}`);
    options.onProgress?.({ phase: 'check', files: kinds.length });
    const problems = sortProblems([...fileProblems, ...checkImport(parsed, { known: await knownIds(client, parsed), maxProblems: options.maxProblems })]);
    if (problems.length > 0) return { ok: false, problems };
    const records: ImportRecords = {};
    for (const kind of kinds) (records as Record<ImportKind, unknown[]>)[kind] = (parsed[kind] as ParsedFile<unknown>).records;
    const { version, counts } = await applyRecords(client, records, options.onProgress);
    return { ok: true, version, counts };
  });
  if (report.ok) options.onProgress?.({ phase: 'done', version: report.version });
  return report;
}
