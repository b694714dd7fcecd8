import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvLine, formatProblems, gridsToGeoJson, toCsv } from '@griddispatch/grid';
import { freshDatabase, type FreshDatabase } from '@griddispatch/testkit';
import { fixtureCounty } from '../testing/fixture-county.ts';
import { assigned, requestEvent, startHarness, type Harness } from '../testing/harness.ts';
import { importData, importFilesIn, type ImportProgress } from './import-data.ts';
import { loadSampleData } from './load-sample-data.ts';

const at = (isoLocal: string) => new Date(`${isoLocal}+08:00`).toISOString();

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function snapshot() {
  const q = async (sql: string) => (await h.db.pool.query(sql)).rows;
  return {
    version: await q('SELECT version FROM routing.data_version'),
    grids: await q('SELECT id, name, polygon FROM routing.grids ORDER BY id'),
    customers: await q('SELECT account_no, district_code, classes FROM routing.customers ORDER BY account_no'),
    staff: await q('SELECT grid_id, staff_id, role FROM routing.grid_staff ORDER BY 1, 2, 3'),
  };
}

describe('validation', () => {
  it('reports every problem with file and line, and applies nothing', async () => {
    const before = await snapshot();
    const county = fixtureCounty();
    // An extra district grid drawn over HH-G1 and HH-G2 (same kind → overlap), line 7 of the file.
    county.grids.push({ ...county.grids[1]!, id: 'HH-G9', name: '重叠网格' });
    const customers = [
      'account_no,district_code,classes,name,phone',
      '3000000001,TQ-001,resident,张三,13800000001',
      '3000000777,TQ-002,aquaculture,新户,13800000777', // valid on its own: must not be applied either
      '3000000001,TQ-002,resident,张三,13800000001', // duplicate account
      '3000000888,TQ-404,resident,,', // unknown 台区
      '3000000999,TQ-001,fishing,,', // unknown class
    ].join('\n');
    const staff = `${toCsv('staff', county.staff).trimEnd()}\n${csvLine(['S-X1', '新人', '', 'manager:HH-G404'])}\n`;

    const report = await importData(h.db.pool, {
      grids: { text: gridsToGeoJson(county.grids) },
      districts: { text: toCsv('districts', county.districts) },
      customers: { text: customers },
      staff: { text: staff },
    });

    expect(report.ok).toBe(false);
    if (report.ok) return;
    const found = report.problems.map((p) => `${p.file}:${p.line}:${p.code}`);
    expect(found).toEqual(
      expect.arrayContaining(['customers.csv:4:duplicate', 'customers.csv:5:unknown_district', 'customers.csv:6:invalid_value', 'staff.csv:11:unknown_grid']),
    );
    const overlap = report.problems.find((p) => p.code === 'overlap');
    expect(overlap?.file).toBe('grids.geojson');
    expect(overlap?.message).toMatch(/HH-G9/);
    // The CLI prints this report.
    expect(formatProblems(report.problems)).toContain('customers.csv:4: [duplicate]');
    expect(await snapshot()).toEqual(before);
  });

  it('checks a file imported alone against the stored data', async () => {
    const report = await importData(h.db.pool, { customers: { text: 'account_no,district_code\n3000000555,TQ-001\n3000000556,TQ-999\n' } });
    expect(report.ok).toBe(false);
    if (!report.ok) expect(report.problems.map((p) => `${p.line}:${p.code}`)).toEqual(['3:unknown_district']);
  });

  it('rejects an import with no files', async () => {
    const report = await importData(h.db.pool, {});
    expect(report.ok).toBe(false);
  });
});

describe('re-import', () => {
  it('updates in place, and the running router uses the new data without a restart', async () => {
    // Before: account 3000000001 is in TQ-001 → HH-G1.
    const [before] = await h.send(requestEvent({ receivedAt: at('2026-10-05T10:00:00'), category: 'consultation', customer: { accountNo: '3000000001' } }));
    expect(assigned(before).grid.id).toBe('HH-G1');

    const county = fixtureCounty();
    county.customers[0] = { ...county.customers[0]!, districtCode: 'TQ-003' };
    county.customers.push({ accountNo: '3000000004', districtCode: 'TQ-002', classes: ['cold_storage'] });
    county.grids[4] = { ...county.grids[4]!, name: '天城1号网格(新)' };
    const report = await importData(h.db.pool, { grids: { text: gridsToGeoJson(county.grids) }, customers: { text: toCsv('customers', county.customers) } });
    expect(report.ok).toBe(true);
    if (!report.ok) return;
    expect(report.counts.customers).toEqual({ inserted: 1, updated: 1, unchanged: 2 });
    expect(report.counts.grids).toEqual({ inserted: 0, updated: 1, unchanged: 4 });

    const [after, cold] = await h.send(
      requestEvent({ receivedAt: at('2026-10-05T10:05:00'), category: 'consultation', customer: { accountNo: '3000000001' } }),
      requestEvent({ receivedAt: at('2026-10-05T10:06:00'), customer: { accountNo: '3000000004' } }),
    );
    expect(assigned(after).grid).toMatchObject({ id: 'TC-G1', name: '天城1号网格(新)' });
    expect(assigned(cold).sla.policy).toBe('cold-storage-outage');
    const { rows } = await h.db.pool.query('SELECT count(*)::int AS n FROM routing.customers');
    expect(rows[0].n).toBe(4);
    // The moved account's meter moved with it; the new account has one.
    const meters = await h.db.pool.query("SELECT meter_id, district_code FROM routing.meters WHERE meter_id IN ('M-3000000001', 'M-3000000004') ORDER BY 1");
    expect(meters.rows).toEqual([
      { meter_id: 'M-3000000001', district_code: 'TQ-003' },
      { meter_id: 'M-3000000004', district_code: 'TQ-002' },
    ]);
  });

  it('a staff file replaces the roles of the staff it lists; a rosters file replaces the roster', async () => {
    const county = fixtureCounty();
    // S-A1 turns from assistant into a second manager of HH-G1, on a long day shift.
    county.staff = county.staff.map((s) => (s.id === 'S-A1' ? { ...s, assignments: [{ gridId: 'HH-G1', role: 'manager' }] } : s));
    county.rosters = county.rosters.map((r) => (r.staffId === 'S-A1' ? { ...r, start: '08:00', end: '20:00' } : r));
    const report = await importData(h.db.pool, { staff: { text: toCsv('staff', county.staff) }, rosters: { text: toCsv('rosters', county.rosters) } });
    expect(report.ok).toBe(true);
    if (report.ok) expect(report.counts.rosters).toEqual({ inserted: 5, updated: 0, unchanged: 0, removed: 5 });
    const [out] = await h.send(requestEvent({ receivedAt: at('2026-10-06T19:00:00'), category: 'consultation', location: { districtCode: 'TQ-001' } }));
    expect(assigned(out).assignees).toEqual([{ staffId: 'S-A1', name: '李协管', role: 'manager' }]);
  });

  it('reads files from a directory, streaming CSV with progress', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gd-import-'));
    try {
      const rows = Array.from({ length: 12_000 }, (_, i) => ({ accountNo: String(3100000000 + i), districtCode: i % 2 ? 'TQ-001' : 'TQ-003', classes: [] }));
      await writeFile(join(dir, 'customers.csv'), toCsv('customers', rows));
      await writeFile(join(dir, 'notes.txt'), 'not an import file');
      const files = await importFilesIn(dir);
      expect(Object.keys(files)).toEqual(['customers']);
      const progress: ImportProgress[] = [];
      const report = await importData(h.db.pool, files, { onProgress: (p) => progress.push(p) });
      expect(report.ok).toBe(true);
      if (report.ok) expect(report.counts.customers?.inserted).toBe(12_000);
      const applied = progress.filter((p) => p.phase === 'apply');
      expect(applied.length).toBeGreaterThanOrEqual(3);
      expect(applied.at(-1)).toEqual({ phase: 'apply', file: 'customers.csv', rows: 12_000, total: 12_000 });
      expect(progress.some((p) => p.phase === 'read' && p.rows === 12_000)).toBe(true);
      expect(progress.at(-1)?.phase).toBe('done');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('sample data', () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase('routing_sample');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('loads the sample county into an empty schema once', async () => {
    const loaded = await loadSampleData(db.pool, { scale: 1 });
    expect(loaded?.counts.grids?.inserted).toBe(33);
    expect(loaded?.counts.customers?.inserted).toBe(20_000);
    expect(await loadSampleData(db.pool, { scale: 1 })).toBeNull();
    const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM routing.customers WHERE 'aquaculture' = ANY(classes)");
    expect(rows[0].n).toBe(1811);
    // Every account has its meter, every 台区 its transformer meter (packages/grid meters.ts).
    const meters = await db.pool.query<{ kind: string; n: number }>('SELECT kind, count(*)::int AS n FROM routing.meters GROUP BY kind ORDER BY kind');
    expect(meters.rows).toEqual([
      { kind: 'customer', n: 20_000 },
      { kind: 'transformer', n: 157 + 64 },
    ]);
    const one = await db.pool.query(
      "SELECT meter_id, district_code FROM routing.meters WHERE kind = 'customer' AND account_no = (SELECT min(account_no) FROM routing.customers)",
    );
    expect(one.rows[0].meter_id).toMatch(/^M-\d{10}$/);
  });
});
