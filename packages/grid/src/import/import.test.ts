import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { generateSampleCounty } from '../sample/generate.ts';
import { toImportFiles } from './export.ts';
import { featureStartLines, parseGridsGeoJson } from './geojson.ts';
import { checkImport, parseImportFiles } from './import-set.ts';
import { csvChunks, parseCsv, parseCsvStream } from './parse-csv.ts';
import { formatProblems } from './problems.ts';

const GRIDS = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id":"A","name":"甲网格","kind":"district","parent_id":"AREA","area_type":"rural","community_code":null},"geometry":{"type":"Polygon","coordinates":[[[114,30],[114.1,30],[114.1,30.1],[114,30.1],[114,30]]]}},
{"type":"Feature","properties":{"id":"AREA","name":"后湖供电所","kind":"area","parent_id":null,"area_type":"rural","community_code":"420116110000"},"geometry":null},
{"type":"Feature","properties":{"id":"B","name":"乙网格","kind":"district","parent_id":"AREA","area_type":"rural"},
 "geometry":{"type":"Polygon","coordinates":[[[114.05,30.05],[114.2,30.05],[114.2,30.1],[114.05,30.1],[114.05,30.05]]]}},
{"type":"Feature","properties":{"id":"C","name":"丙网格","kind":"district","parent_id":"AREA","area_type":"rural"},"geometry":{"type":"Polygon","coordinates":[[[114.3,30],[114.4,30],[114.4,30.1]]]}}
]}`;

const DISTRICTS = `code,name,feeder_code,grid_id
TQ-1,一号台区,F-1,A
TQ-2,二号台区,F-1,B
TQ-3,三号台区,F-1,NOPE
`;

const CUSTOMERS = `account_no,district_code,classes,name,phone
3000000001,TQ-1,aquaculture,张三,13800000001
3000000002,TQ-2,resident;vulnerable,,
3000000001,TQ-2,resident,李四,13800000002
3000000003,TQ-9,resident,王五,13800000003
3000000004,TQ-1,fisherman,赵六,13800000004
3000000005,TQ-1,resident,钱七,not-a-phone
`;

const STAFF = `staff_id,name,phone,assignments
S1,刘经理,13900000001,manager:A;assistant:B
S2,陈协管,,helper:A
S3,周班长,13900000003,repair_crew:GHOST
`;

const ROSTERS = `staff_id,days,start,end,valid_from,valid_to
S1,1-5,08:30,17:30,,
S9,1-7,08:00,08:00,,
S1,8,25:00,06:00,2026-02-30,
`;

describe('parseImportFiles — a clear report with file and line', () => {
  const result = parseImportFiles({ grids: GRIDS, districts: DISTRICTS, customers: CUSTOMERS, staff: STAFF, rosters: ROSTERS });
  const at = (file: string) => result.problems.filter((p) => p.file === file).map((p) => [p.line, p.code]);

  it('reports duplicate accounts, unknown 台区 codes, bad classes and phones in customers.csv', () => {
    expect(at('customers.csv')).toEqual([
      [4, 'duplicate'],
      [5, 'unknown_district'],
      [6, 'invalid_value'],
      [7, 'invalid_value'],
    ]);
    const dup = result.problems.find((p) => p.code === 'duplicate');
    expect(dup?.message).toBe("duplicate account_no '3000000001' (first on line 2)");
  });

  it('reports unknown grid ids in districts.csv and staff.csv, and bad roles', () => {
    expect(at('districts.csv')).toEqual([[4, 'unknown_grid']]);
    expect(at('staff.csv')).toEqual([
      [3, 'bad_role'],
      [4, 'unknown_grid'],
    ]);
    expect(result.problems.find((p) => p.code === 'bad_role')?.message).toContain(
      "role 'helper' is not one of manager, assistant, supervisor, repair_crew, station_head",
    );
  });

  it('reports unknown staff and malformed shifts in rosters.csv', () => {
    expect(at('rosters.csv')).toEqual([
      [3, 'unknown_staff'],
      [4, 'invalid_value'],
      [4, 'invalid_value'],
      [4, 'invalid_value'],
    ]);
  });

  it('reports overlapping polygons with both ids and lines, and broken rings at their feature', () => {
    expect(at('grids.geojson')).toEqual([
      [2, 'overlap'],
      [6, 'ring_too_short'],
    ]);
    const overlap = result.problems.find((p) => p.code === 'overlap');
    expect(overlap?.message).toMatch(/^grids A and B \(both district\) overlap near \[.*\] \(lines 2 and 4\)$/);
  });

  it('formats problems as file:line: [code] message, sorted', () => {
    const text = formatProblems(result.problems);
    expect(text.split('\n')[0]).toBe("customers.csv:4: [duplicate] duplicate account_no '3000000001' (first on line 2)");
  });

  it('still returns the good records and links 台区 to their grids', () => {
    // Rows with their own problems are left out; a row whose 台区 is unknown is read but reported.
    expect(result.customers.map((c) => c.accountNo)).toEqual(['3000000001', '3000000002', '3000000003']);
    expect(result.customers[1]).toEqual({ accountNo: '3000000002', districtCode: 'TQ-2', classes: ['resident', 'vulnerable'] });
    expect(result.grids.find((g) => g.id === 'A')?.districts).toEqual(['TQ-1']);
  });
});

describe('file-level problems', () => {
  it('needs the required columns and names unknown ones', () => {
    const r = parseCsv('customers', 'account,district_code\n1,TQ\n');
    expect(r.records).toEqual([]);
    expect(r.problems.map((p) => [p.line, p.code])).toEqual([
      [1, 'unknown_column'],
      [1, 'missing_column'],
    ]);
    expect(parseCsv('staff', '').problems[0]).toMatchObject({ code: 'missing_column', line: null });
  });

  it('reports rows with extra fields and spreadsheet-mangled community codes', () => {
    expect(parseCsv('districts', 'code,name,feeder_code,grid_id\nT,t,F,G,extra\n').problems[0]).toMatchObject({ line: 2, code: 'syntax' });
    expect(parseCsv('communities', 'code,name,grid_id\n4.21223E+11,城东社区,C01\n').problems[0]?.message).toContain('administrative code');
  });

  it('caps the problem list of a huge broken file', () => {
    const rows = Array.from({ length: 50 }, (_, i) => `${i},`).join('\n');
    const r = parseCsv('customers', `account_no,district_code\n${rows}\n`, { maxProblems: 10 });
    expect(r.problems).toHaveLength(11);
    expect(r.problems[10]).toMatchObject({ code: 'too_many_problems', message: '40 more problems in customers.csv not listed' });
  });

  it('reports JSON syntax errors with a line, and features that are not grids', () => {
    expect(parseGridsGeoJson('{"type":"FeatureCollection",\n"features":[\n{]}').problems[0]).toMatchObject({ code: 'syntax', line: 3 });
    const r = parseGridsGeoJson(
      '{"type":"FeatureCollection","features":[\n{"type":"Feature","properties":{"id":"X","kind":"zone","area_type":"rural"},"geometry":null}\n]}',
    );
    expect(r.problems.map((p) => [p.line, p.message])).toEqual([
      [2, 'grid X: properties.name is missing'],
      [2, 'grid X: kind "zone" must be one of area, feeder, district'],
    ]);
  });

  it('finds the start line of every feature, whatever the layout', () => {
    expect(featureStartLines('{"features":[\n{"a":"]"},\n\n  {"b":[1,{"c":2}]}],"x":[{}]}')).toEqual([2, 4]);
  });

  it('checks references against ids already stored when the referenced file is not imported', () => {
    const customers = parseCsv('customers', 'account_no,district_code\n1,TQ-1\n2,TQ-X\n');
    expect(checkImport({ customers }, { known: { districtCodes: ['TQ-1'] } })).toMatchObject([{ line: 3, code: 'unknown_district' }]);
  });
});

describe('streams and round trips', () => {
  it('parses a chunked stream with progress, multi-byte characters split across chunks', async () => {
    const text = 'account_no,district_code,classes,name\n' + Array.from({ length: 1000 }, (_, i) => `${3_000_000_000 + i},TQ-1,resident,张三丰`).join('\n');
    const bytes = Buffer.from(text);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));
    const progress: number[] = [];
    const r = await parseCsvStream('customers', Readable.from(chunks), { progressEveryRows: 300, onProgress: (p) => progress.push(p.rows) });
    expect(r.problems).toEqual([]);
    expect(r.records).toHaveLength(1000);
    expect(r.records[999]).toEqual({ accountNo: '3000000999', districtCode: 'TQ-1', classes: ['resident'], name: '张三丰' });
    expect(r.lines[999]).toBe(1001);
    expect(progress).toEqual([300, 600, 900, 1000]);
  });

  it('hands records over in batches without keeping them, still collecting every problem', async () => {
    const text = 'account_no,district_code\n' + Array.from({ length: 25 }, (_, i) => `${i % 20},TQ-1`).join('\n');
    const batches: { size: number; firstLine: number }[] = [];
    const r = await parseCsvStream('customers', Readable.from([text.slice(0, 40), text.slice(40)]), {
      batchSize: 8,
      onBatch: async (records, lines) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        batches.push({ size: records.length, firstLine: lines[0] as number });
      },
    });
    expect(batches.reduce((a, b) => a + b.size, 0)).toBe(20);
    expect(batches.every((b) => b.size <= 8)).toBe(true);
    expect(batches[0]?.firstLine).toBe(2);
    expect(r.records).toEqual([]);
    expect(r.problems.map((p) => p.line)).toEqual([22, 23, 24, 25, 26]);
  });

  it('reads the sample county files back exactly, with no problems', () => {
    const county = generateSampleCounty();
    const files = toImportFiles(county);
    const back = parseImportFiles(files);
    expect(back.problems).toEqual([]);
    expect(back.grids).toEqual(county.grids);
    expect(back.districts).toEqual(county.districts);
    expect(back.customers).toEqual(county.customers);
    expect(back.staff).toEqual(county.staff);
    expect(back.rosters).toEqual(county.rosters);
    expect(back.communities).toEqual(county.communities);
    expect(back.feeders).toEqual(county.feeders);
    expect([...csvChunks('customers', county.customers, 999)].join('')).toBe(files.customers);
  });
});
