import type { PoolClient } from 'pg';
import { gridProperties, IMPORT_FILE_NAMES, metersOf, type GridRecord, type ImportFileTexts, type MeterRecord, type SampleCounty } from '@griddispatch/grid';
import { DATA_VERSION_CHANNEL } from '../routing-data.ts';

// Writing checked reference data: used by `importData` (after every file passed the checks) and
// by `loadSampleData`. Always inside the caller's transaction, so an import is all or nothing.

export type ImportKind = keyof ImportFileTexts;

export type ImportProgress =
  | { phase: 'read'; file: string; rows: number; bytes: number }
  | { phase: 'check'; files: number }
  | { phase: 'apply'; file: string; rows: number; total: number }
  | { phase: 'done'; version: number };

export interface ApplyCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  /** Rows replaced (rosters: the previous schedule). */
  removed?: number;
}

/** Record sets to write; a kind left out is not touched. */
export type ImportRecords = Partial<SampleCounty>;

/** Applied in this order: what a record refers to is written before it (FKs are deferred anyway). */
export const ORDER: readonly ImportKind[] = ['grids', 'feeders', 'districts', 'communities', 'customers', 'staff', 'rosters'];
const BATCH_ROWS = 5_000;
/** Serialises imports (and the sample load) with each other. */
export const IMPORT_LOCK = "pg_advisory_xact_lock(hashtextextended('routing.import', 0))";

export function defaultName(kind: ImportKind): string {
  return IMPORT_FILE_NAMES[kind];
}

/** Consecutive slices of at most `size` rows: one statement each. */
function* batches<T>(rows: readonly T[], size = BATCH_ROWS): Generator<T[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

type Upsert = { sql: string; toRow: (record: never) => Record<string, unknown> };

/** A column of the batch: its name (the same in the table and the JSON rows), its type, and what is inserted (default: the value). */
type Column = [name: string, type: string, inserted?: string];

/**
 * One statement per batch: the batch as a JSON array expanded by jsonb_to_recordset, inserted or,
 * on a `key` conflict, updated; a row that is already identical is not rewritten, so a re-import
 * reports what really changed.
 */
function upsertSql(table: string, key: string, columns: Column[]): string {
  const names = columns.map(([name]) => name);
  const rest = names.filter((name) => name !== key);
  return `INSERT INTO routing.${table} AS t (${names.join(', ')})
          SELECT ${columns.map(([name, , inserted]) => inserted ?? name).join(', ')}
            FROM jsonb_to_recordset($1::jsonb) AS r(${columns.map(([name, type]) => `${name} ${type}`).join(', ')})
          ON CONFLICT (${key}) DO UPDATE SET ${rest.map((name) => `${name} = EXCLUDED.${name}`).join(', ')}, updated_at = now()
          WHERE (${rest.map((name) => `t.${name}`).join(', ')}) IS DISTINCT FROM (${rest.map((name) => `EXCLUDED.${name}`).join(', ')})
          RETURNING (xmax = 0) AS inserted`;
}

const UPSERTS: Record<Exclude<ImportKind, 'rosters'>, Upsert> = {
  grids: {
    sql: upsertSql('grids', 'id', [
      ['id', 'text'],
      ['name', 'text'],
      ['kind', 'text'],
      ['parent_id', 'text'],
      ['area_type', 'text'],
      ['community_code', 'text'],
      ['polygon', 'jsonb'],
    ]),
    toRow: (g: GridRecord) => ({ ...gridProperties(g), polygon: g.polygon }),
  },
  feeders: {
    sql: upsertSql('feeders', 'code', [
      ['code', 'text'],
      ['name', 'text'],
      ['area_grid_id', 'text'],
    ]),
    toRow: (f: NonNullable<ImportRecords['feeders']>[number]) => ({ code: f.code, name: f.name, area_grid_id: f.areaGridId }),
  },
  districts: {
    sql: upsertSql('districts', 'code', [
      ['code', 'text'],
      ['name', 'text'],
      ['feeder_code', 'text'],
      ['grid_id', 'text'],
      ['lon', 'double precision'],
      ['lat', 'double precision'],
    ]),
    toRow: (d: NonNullable<ImportRecords['districts']>[number]) => ({
      code: d.code,
      name: d.name,
      feeder_code: d.feederCode,
      grid_id: d.gridId,
      lon: d.lon ?? null,
      lat: d.lat ?? null,
    }),
  },
  communities: {
    sql: upsertSql('communities', 'code', [
      ['code', 'text'],
      ['name', 'text'],
      ['grid_id', 'text'],
    ]),
    toRow: (c: NonNullable<ImportRecords['communities']>[number]) => ({ code: c.code, name: c.name, grid_id: c.gridId }),
  },
  customers: {
    sql: upsertSql('customers', 'account_no', [
      ['account_no', 'text'],
      ['district_code', 'text'],
      ['classes', 'text[]', "coalesce(classes, '{}')"],
      ['name', 'text'],
      ['phone', 'text'],
    ]),
    toRow: (c: NonNullable<ImportRecords['customers']>[number]) => ({
      account_no: c.accountNo,
      district_code: c.districtCode,
      classes: c.classes,
      name: c.name ?? null,
      phone: c.phone ?? null,
    }),
  },
  staff: {
    sql: upsertSql('staff', 'id', [
      ['id', 'text'],
      ['name', 'text'],
      ['phone', 'text'],
    ]),
    toRow: (s: NonNullable<ImportRecords['staff']>[number]) => ({ id: s.id, name: s.name, phone: s.phone }),
  },
};

async function upsert(
  client: PoolClient,
  kind: Exclude<ImportKind, 'rosters'>,
  records: readonly unknown[],
  progress: (rows: number) => void,
): Promise<ApplyCounts> {
  const { sql, toRow } = UPSERTS[kind];
  const counts: ApplyCounts = { inserted: 0, updated: 0, unchanged: 0 };
  let done = 0;
  for (const batch of batches(records)) {
    const { rows } = await client.query<{ inserted: boolean }>(sql, [JSON.stringify(batch.map((r) => toRow(r as never)))]);
    const inserted = rows.filter((r) => r.inserted).length;
    counts.inserted += inserted;
    counts.updated += rows.length - inserted;
    counts.unchanged += batch.length - rows.length;
    done += batch.length;
    progress(done);
  }
  return counts;
}

/**
 * The meters of imported accounts and 台区 (packages/grid meters.ts: the ids are derived, the
 * import files have no meter column). An account that moved to another 台区 takes its meter
 * along; a meter's last heard state is kept.
 */
async function upsertMeters(client: PoolClient, meters: MeterRecord[]): Promise<void> {
  for (const batch of batches(meters)) {
    await client.query(
      `INSERT INTO routing.meters AS t (meter_id, account_no, district_code, kind)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
       ON CONFLICT (meter_id) DO UPDATE SET account_no = EXCLUDED.account_no, district_code = EXCLUDED.district_code, kind = EXCLUDED.kind, updated_at = now()
       WHERE (t.account_no, t.district_code, t.kind) IS DISTINCT FROM (EXCLUDED.account_no, EXCLUDED.district_code, EXCLUDED.kind)`,
      [batch.map((m) => m.meterId), batch.map((m) => m.accountNo), batch.map((m) => m.districtCode), batch.map((m) => m.kind)],
    );
  }
}

/**
 * routing.district_customers, the customers per 台区 the reports divide by (customers served),
 * counted again whenever customers are imported: a report reads 台区-sized rows, never the accounts.
 */
async function refreshDistrictCustomers(client: PoolClient): Promise<void> {
  await client.query(
    `WITH counted AS (SELECT district_code, count(*)::int AS customers FROM routing.customers GROUP BY district_code),
     gone AS (DELETE FROM routing.district_customers dc WHERE NOT EXISTS (SELECT 1 FROM counted c WHERE c.district_code = dc.district_code))
     INSERT INTO routing.district_customers AS t (district_code, customers) SELECT district_code, customers FROM counted
     ON CONFLICT (district_code) DO UPDATE SET customers = EXCLUDED.customers WHERE t.customers <> EXCLUDED.customers`,
  );
}

/**
 * Writes checked records inside the caller's transaction. A staff file replaces the grid roles
 * of the staff it lists; a rosters file replaces the whole roster (it is the schedule).
 */
export async function applyRecords(
  client: PoolClient,
  records: ImportRecords,
  onProgress?: (progress: ImportProgress) => void,
): Promise<{ version: number; counts: Partial<Record<ImportKind, ApplyCounts>> }> {
  await client.query(`SELECT ${IMPORT_LOCK}`);
  const counts: Partial<Record<ImportKind, ApplyCounts>> = {};
  for (const kind of ORDER) {
    const list = records[kind];
    if (!list) continue;
    const file = defaultName(kind);
    const progress = (rows: number) => onProgress?.({ phase: 'apply', file, rows, total: list.length });
    if (kind === 'rosters') {
      const rosters = records.rosters ?? [];
      const before = await client.query('DELETE FROM routing.rosters');
      for (const [i, batch] of [...batches(rosters)].entries()) {
        await client.query(
          `INSERT INTO routing.rosters (staff_id, days, start_time, end_time, valid_from, valid_to)
           SELECT staff_id, days, start_time, end_time, valid_from, valid_to
             FROM jsonb_to_recordset($1::jsonb) AS r(staff_id text, days smallint[], start_time text, end_time text, valid_from date, valid_to date)`,
          [
            JSON.stringify(
              batch.map((r) => ({ staff_id: r.staffId, days: r.days, start_time: r.start, end_time: r.end, valid_from: r.validFrom, valid_to: r.validTo })),
            ),
          ],
        );
        progress(Math.min(rosters.length, (i + 1) * BATCH_ROWS));
      }
      counts.rosters = { inserted: rosters.length, updated: 0, unchanged: 0, removed: before.rowCount ?? 0 };
      continue;
    }
    counts[kind] = await upsert(client, kind, list, progress);
    if (kind === 'districts') await upsertMeters(client, metersOf({ districts: records.districts ?? [] }));
    if (kind === 'customers') {
      await upsertMeters(client, metersOf({ customers: records.customers ?? [] }));
      await refreshDistrictCustomers(client);
    }
    if (kind === 'staff') {
      const staff = records.staff ?? [];
      await client.query('DELETE FROM routing.grid_staff WHERE staff_id = ANY($1::text[])', [staff.map((s) => s.id)]);
      for (const batch of batches(staff.flatMap((s) => s.assignments.map((a) => ({ staff_id: s.id, grid_id: a.gridId, role: a.role }))))) {
        await client.query(
          `INSERT INTO routing.grid_staff (grid_id, staff_id, role)
           SELECT grid_id, staff_id, role FROM jsonb_to_recordset($1::jsonb) AS r(grid_id text, staff_id text, role text)
           ON CONFLICT DO NOTHING`,
          [JSON.stringify(batch)],
        );
      }
    }
  }
  const { rows } = await client.query<{ version: string }>('UPDATE routing.data_version SET version = version + 1, updated_at = now() RETURNING version');
  const version = Number(rows[0]?.version ?? 0);
  // Delivered at commit: routers LISTENing reload their in-memory index.
  await client.query('SELECT pg_notify($1, $2)', [DATA_VERSION_CHANNEL, String(version)]);
  return { version, counts };
}
