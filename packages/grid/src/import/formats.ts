import { CustomerClass, StaffRole } from '@griddispatch/contracts';
import { parseClock } from '../roster.ts';
import type { CommunityRecord, CustomerRecord, DistrictRecord, FeederRecord, RosterEntry, StaffAssignment, StaffRecord, Weekday } from '../types.ts';
import type { ImportProblemCode } from './problems.ts';

/**
 * The CSV import files. Column names are lower-case snake_case; `header` is the order the
 * exporter writes; a file must have every `required` column and may have the `optional` ones in
 * any order. Multi-valued cells use `;` (so they need no quoting). Documented in the README.
 */
export const CSV_FORMATS = {
  districts: {
    file: 'districts.csv',
    header: ['code', 'name', 'feeder_code', 'grid_id', 'lon', 'lat'],
    required: ['code', 'name', 'feeder_code', 'grid_id'],
  },
  customers: {
    file: 'customers.csv',
    header: ['account_no', 'district_code', 'classes', 'name', 'phone'],
    required: ['account_no', 'district_code'],
  },
  staff: {
    file: 'staff.csv',
    header: ['staff_id', 'name', 'phone', 'assignments'],
    required: ['staff_id', 'name', 'assignments'],
  },
  rosters: {
    file: 'rosters.csv',
    header: ['staff_id', 'days', 'start', 'end', 'valid_from', 'valid_to'],
    required: ['staff_id', 'days', 'start', 'end'],
  },
  communities: {
    file: 'communities.csv',
    header: ['code', 'name', 'grid_id'],
    required: ['code', 'name', 'grid_id'],
  },
  feeders: {
    file: 'feeders.csv',
    header: ['code', 'name', 'area_grid_id'],
    required: ['code', 'name'],
  },
} as const;

export type CsvKind = keyof typeof CSV_FORMATS;

export interface CsvRecordMap {
  districts: DistrictRecord;
  customers: CustomerRecord;
  staff: StaffRecord;
  rosters: RosterEntry;
  communities: CommunityRecord;
  feeders: FeederRecord;
}

export type CsvRecordOf<K extends CsvKind> = CsvRecordMap[K];

/** Reads one row: `get` returns the trimmed cell ('' when absent); `fail` records a problem. */
export interface RowContext {
  get(column: string): string;
  fail(code: ImportProblemCode, message: string): void;
}

/** How a record is identified for duplicate detection (none for rosters: several shifts per person). */
export const RECORD_KEYS: { [K in CsvKind]: ((r: CsvRecordMap[K]) => string) | null } = {
  districts: (r) => r.code,
  customers: (r) => r.accountNo,
  staff: (r) => r.id,
  rosters: null,
  communities: (r) => r.code,
  feeders: (r) => r.code,
};

export const KEY_COLUMNS: Record<CsvKind, string> = {
  districts: 'code',
  customers: 'account_no',
  staff: 'staff_id',
  rosters: 'staff_id',
  communities: 'code',
  feeders: 'code',
};

const CLASSES = new Set<string>(CustomerClass.options);
const ROLES = new Set<string>(StaffRole.options);
/** Administrative division codes: 6 (county) to 12 (village) digits. */
export const ADMIN_CODE = /^\d{6,12}$/;
const PHONE = /^\+?\d[\d -]{4,30}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function required(ctx: RowContext, column: string, max = 64): string | null {
  const v = ctx.get(column);
  if (v === '') {
    ctx.fail('missing_value', `${column} is empty`);
    return null;
  }
  if (v.length > max) {
    ctx.fail('invalid_value', `${column} is longer than ${max} characters`);
    return null;
  }
  return v;
}

function optionalPhone(ctx: RowContext, column: string): string | null | undefined {
  const v = ctx.get(column);
  if (v === '') return null;
  if (!PHONE.test(v)) {
    ctx.fail('invalid_value', `${column} '${v}' is not a phone number`);
    return undefined;
  }
  return v;
}

function coordinate(ctx: RowContext, column: string, limit: number): number | null | undefined {
  const v = ctx.get(column);
  if (v === '') return null;
  const n = Number(v);
  if (!Number.isFinite(n) || Math.abs(n) > limit) {
    ctx.fail('invalid_value', `${column} '${v}' must be a number between -${limit} and ${limit}`);
    return undefined;
  }
  return n;
}

function isCalendarDate(v: string): boolean {
  if (!DATE.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

/** `1-5`, `6;7`, `1;3-5` → sorted unique ISO weekdays; null when malformed. */
export function parseDays(value: string): Weekday[] | null {
  const days = new Set<number>();
  for (const part of value.split(';')) {
    const p = part.trim();
    const range = /^([1-7])\s*-\s*([1-7])$/.exec(p);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (a > b) return null;
      for (let d = a; d <= b; d++) days.add(d);
    } else if (/^[1-7]$/.test(p)) days.add(Number(p));
    else return null;
  }
  return days.size === 0 ? null : ([...days].sort((x, y) => x - y) as Weekday[]);
}

/** Compact form of a day list: `[1,2,3,4,5]` → `1-5`, `[1,4,7]` → `1;4;7`. */
export function formatDays(days: readonly Weekday[]): string {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    parts.push(j - i >= 2 ? `${sorted[i]}-${sorted[j]}` : sorted.slice(i, j + 1).join(';'));
    i = j + 1;
  }
  return parts.join(';');
}

export const DECODERS: { [K in CsvKind]: (ctx: RowContext) => CsvRecordMap[K] | null } = {
  districts(ctx) {
    const code = required(ctx, 'code');
    const name = required(ctx, 'name', 100);
    const feederCode = required(ctx, 'feeder_code');
    const gridId = required(ctx, 'grid_id');
    const lon = coordinate(ctx, 'lon', 180);
    const lat = coordinate(ctx, 'lat', 90);
    if ((lon === null) !== (lat === null) && lon !== undefined && lat !== undefined) {
      ctx.fail('missing_value', 'lon and lat must be given together');
      return null;
    }
    if (code === null || name === null || feederCode === null || gridId === null || lon === undefined || lat === undefined) return null;
    const d: DistrictRecord = { code, name, feederCode, gridId };
    if (lon !== null && lat !== null) {
      d.lon = lon;
      d.lat = lat;
    }
    return d;
  },

  customers(ctx) {
    const accountNo = required(ctx, 'account_no');
    const districtCode = required(ctx, 'district_code');
    const classes: CustomerClass[] = [];
    let ok = true;
    const rawClasses = ctx.get('classes');
    if (rawClasses !== '') {
      for (const part of rawClasses.split(';')) {
        const c = part.trim();
        if (c === '') continue;
        if (!CLASSES.has(c)) {
          ctx.fail('invalid_value', `unknown customer class '${c}' (one of ${CustomerClass.options.join(', ')})`);
          ok = false;
        } else if (!classes.includes(c as CustomerClass)) classes.push(c as CustomerClass);
      }
    }
    const name = ctx.get('name');
    if (name.length > 100) {
      ctx.fail('invalid_value', 'name is longer than 100 characters');
      ok = false;
    }
    const phone = optionalPhone(ctx, 'phone');
    if (accountNo === null || districtCode === null || !ok || phone === undefined) return null;
    const c: CustomerRecord = { accountNo, districtCode, classes };
    if (name !== '') c.name = name;
    if (phone !== null) c.phone = phone;
    return c;
  },

  staff(ctx) {
    const id = required(ctx, 'staff_id');
    const name = required(ctx, 'name', 100);
    const phone = optionalPhone(ctx, 'phone');
    const raw = required(ctx, 'assignments', 4000);
    const assignments: StaffAssignment[] = [];
    let ok = raw !== null;
    for (const part of (raw ?? '').split(';')) {
      const p = part.trim();
      if (p === '') continue;
      const m = /^([a-z_]+)\s*:\s*(.+)$/.exec(p);
      if (!m) {
        ctx.fail('invalid_value', `assignment '${p}' must be role:grid_id`);
        ok = false;
        continue;
      }
      const role = m[1] as string;
      const gridId = (m[2] as string).trim();
      if (!ROLES.has(role)) {
        ctx.fail('bad_role', `role '${role}' is not one of ${StaffRole.options.join(', ')}`);
        ok = false;
        continue;
      }
      if (!assignments.some((a) => a.gridId === gridId && a.role === role)) assignments.push({ gridId, role: role as StaffRole });
    }
    if (raw !== null && assignments.length === 0 && ok) {
      ctx.fail('missing_value', 'assignments lists no role:grid_id');
      ok = false;
    }
    if (id === null || name === null || phone === undefined || !ok) return null;
    return { id, name, phone, assignments };
  },

  rosters(ctx) {
    const staffId = required(ctx, 'staff_id');
    const rawDays = required(ctx, 'days');
    const days = rawDays === null ? null : parseDays(rawDays);
    if (rawDays !== null && days === null) ctx.fail('invalid_value', `days '${rawDays}' must be ISO weekdays 1-7 like 1-5 or 6;7`);
    const start = required(ctx, 'start');
    const end = required(ctx, 'end');
    let ok = true;
    if (start !== null && (Number.isNaN(parseClock(start)) || parseClock(start) >= 24 * 60)) {
      ctx.fail('invalid_value', `start '${start}' must be HH:MM between 00:00 and 23:59`);
      ok = false;
    }
    if (end !== null && Number.isNaN(parseClock(end))) {
      ctx.fail('invalid_value', `end '${end}' must be HH:MM between 00:00 and 24:00`);
      ok = false;
    }
    const validFrom = ctx.get('valid_from') || null;
    const validTo = ctx.get('valid_to') || null;
    for (const [col, v] of [
      ['valid_from', validFrom],
      ['valid_to', validTo],
    ] as const) {
      if (v !== null && !isCalendarDate(v)) {
        ctx.fail('invalid_value', `${col} '${v}' must be a date YYYY-MM-DD`);
        ok = false;
      }
    }
    if (ok && validFrom !== null && validTo !== null && validFrom > validTo) {
      ctx.fail('invalid_value', `valid_from ${validFrom} is after valid_to ${validTo}`);
      ok = false;
    }
    if (staffId === null || days === null || start === null || end === null || !ok) return null;
    return { staffId, days, start, end, validFrom, validTo };
  },

  communities(ctx) {
    const code = required(ctx, 'code');
    const name = required(ctx, 'name', 100);
    const gridId = required(ctx, 'grid_id');
    if (code !== null && !ADMIN_CODE.test(code)) {
      ctx.fail('invalid_value', `code '${code}' is not an administrative code of 6-12 digits (a spreadsheet may have turned it into 4.21223E+11)`);
      return null;
    }
    if (code === null || name === null || gridId === null) return null;
    return { code, name, gridId };
  },

  feeders(ctx) {
    const code = required(ctx, 'code');
    const name = required(ctx, 'name', 100);
    const areaGridId = ctx.get('area_grid_id') || null;
    if (code === null || name === null) return null;
    return { code, name, areaGridId };
  },
};

export const ENCODERS: { [K in CsvKind]: (r: CsvRecordMap[K]) => (string | number | null | undefined)[] } = {
  districts: (d) => [d.code, d.name, d.feederCode, d.gridId, d.lon, d.lat],
  customers: (c) => [c.accountNo, c.districtCode, c.classes.join(';'), c.name, c.phone],
  staff: (s) => [s.id, s.name, s.phone, s.assignments.map((a) => `${a.role}:${a.gridId}`).join(';')],
  rosters: (r) => [r.staffId, formatDays(r.days), r.start, r.end, r.validFrom, r.validTo],
  communities: (c) => [c.code, c.name, c.gridId],
  feeders: (f) => [f.code, f.name, f.areaGridId],
};
