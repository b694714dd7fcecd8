import type { Pool } from 'pg';
import { z } from 'zod';
import { IsoDateTime } from '@griddispatch/contracts';
import { localParts } from '@griddispatch/sla';
import { round } from '../domain/reliability.ts';

// GET /v1/reports/response (docs/architecture.md#reports): how fast crews answered, per grid, per
// category or per grid and category, over [from, to).
// From what grid-routing holds itself: routing.work_order_times (every work order it dispatched
// with a clock of its own — an incident's primary or a request in no incident, not a merged call:
// category, receipt, the arrive deadline of the plan computed at dispatch, the crew's first
// acknowledge / arrival / resolve at their own `at`) and routing.incidents.
// - mtta, mttr: mean minutes from receipt to the first acknowledge / resolve, over the work orders
//   received in the period that have one (null with none).
// - arrivalOnTime: arrived by the arrive deadline / work orders with a deadline that arrived or
//   whose deadline has passed (one not arrived by then is late; one still in time is not counted
//   yet). A category whose plan has no arrive stage (billing, consultation) has none: null.
// - etrAccuracy: top-level incidents starting in the period and restored, restored by their ETR
//   (the ETR as it stood: manual, policy or planned) / all of them; by the incident's grid, and
//   under fault_repair when grouped by category (an incident is a supply fault).
// - repeatDistricts: 台区 with ≥ 3 district incidents opened in the period.
// A period of whole local months reads routing.work_order_months instead of the rows (migration
// 009: the same sums per month, grid and category, kept by triggers in the writing transaction),
// so a year of a province reads ~10^5 rows, not 10^7; only the arrivals whose deadline is still
// ahead of now (not due yet) are read from the rows.

export const REPEAT_INCIDENTS = 3;
const MAX_RANGE_MS = 6 * 366 * 86_400_000;

const ResponseGroupBy = z.enum(['grid', 'category', 'grid_category']);

export const ResponseQuery = z
  .object({
    from: IsoDateTime,
    to: IsoDateTime,
    groupBy: ResponseGroupBy.default('grid').describe('grid; category; grid_category (key `<grid>/<category>`)'),
  })
  .strict()
  .superRefine((q, ctx) => {
    const span = Date.parse(q.to) - Date.parse(q.from);
    if (span <= 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must be after from' });
    else if (span > MAX_RANGE_MS) ctx.addIssue({ code: 'custom', path: ['to'], message: 'at most six years' });
  });
export type ResponseQuery = z.output<typeof ResponseQuery>;

export const ResponseRow = z.object({
  key: z.string(),
  /** Grouped by grid or grid_category: the grid; by category: null. */
  gridId: z.string().nullable(),
  /** Grouped by category or grid_category: the category; by grid: null. */
  category: z.string().nullable(),
  workOrders: z.number().int(),
  mtta: z.number().nullable(),
  mttr: z.number().nullable(),
  arrivalOnTime: z.number().nullable(),
  etrAccuracy: z.number().nullable(),
  incidentsRestored: z.number().int(),
});
export type ResponseRow = z.infer<typeof ResponseRow>;

export const RepeatDistrict = z.object({
  districtCode: z.string(),
  gridId: z.string(),
  incidents: z.number().int(),
  /** Where the 台区 is (its transformer), for the board's map; null when the import had no position. */
  lon: z.number().nullable(),
  lat: z.number().nullable(),
});

export const ResponseReport = z.object({
  from: z.string(),
  to: z.string(),
  groupBy: ResponseGroupBy,
  rows: z.array(ResponseRow),
  repeatDistricts: z.array(RepeatDistrict),
});
export type ResponseReport = z.infer<typeof ResponseReport>;

const GRID = `CASE WHEN $4::text = 'category' THEN NULL ELSE grid_id END`;
const CATEGORY = `CASE WHEN $4::text = 'grid' THEN NULL ELSE category END`;

/** wo from the rows: every timed work order received in [$1, $2). */
const WO_FROM_ROWS = `
  wo AS (
    SELECT ${GRID} AS grid_id, ${CATEGORY} AS category, count(*)::int AS work_orders,
           (avg(extract(epoch FROM acknowledged_at - received_at)) FILTER (WHERE acknowledged_at IS NOT NULL) / 60)::float8 AS mtta,
           (avg(extract(epoch FROM resolved_at - received_at)) FILTER (WHERE resolved_at IS NOT NULL) / 60)::float8 AS mttr,
           count(*) FILTER (WHERE arrived_at <= arrive_deadline)::int AS on_time,
           count(*) FILTER (WHERE arrive_deadline IS NOT NULL AND (arrived_at IS NOT NULL OR arrive_deadline < $3))::int AS due
      FROM routing.work_order_times WHERE received_at >= $1 AND received_at < $2 GROUP BY 1, 2
  )`;

/**
 * wo from the monthly rollup (months [$5, $6), the same period): the same figures from sums. Due =
 * with a deadline − not arrived with the deadline still ahead of now (read from the rows: recent).
 */
const WO_FROM_MONTHS = `
  m AS (
    SELECT ${GRID} AS grid_id, ${CATEGORY} AS category, sum(work_orders)::int AS work_orders,
           sum(acknowledged) AS acknowledged, sum(ack_ms) AS ack_ms, sum(resolved) AS resolved, sum(resolve_ms) AS resolve_ms,
           sum(on_time)::int AS on_time, sum(with_deadline)::int AS with_deadline
      FROM routing.work_order_months WHERE month >= $5::date AND month < $6::date GROUP BY 1, 2
  ),
  pending AS (
    SELECT ${GRID} AS grid_id, ${CATEGORY} AS category, count(*)::int AS n
      FROM routing.work_order_times
     WHERE arrived_at IS NULL AND arrive_deadline IS NOT NULL AND arrive_deadline >= $3 AND received_at >= $1 AND received_at < $2
     GROUP BY 1, 2
  ),
  wo AS (
    SELECT m.grid_id, m.category, m.work_orders,
           CASE WHEN m.acknowledged > 0 THEN (m.ack_ms::float8 / m.acknowledged / 60000) END AS mtta,
           CASE WHEN m.resolved > 0 THEN (m.resolve_ms::float8 / m.resolved / 60000) END AS mttr,
           m.on_time, m.with_deadline - coalesce(p.n, 0) AS due
      FROM m LEFT JOIN pending p ON coalesce(p.grid_id, '') = coalesce(m.grid_id, '') AND coalesce(p.category, '') = coalesce(m.category, '')
     WHERE m.work_orders > 0
  )`;

/** $4: the grouping. An incident's ETR figures go to its grid, under fault_repair by category. */
const rowsSql = (wo: string) => `
  WITH ${wo},
  etr AS (
    SELECT ${GRID} AS grid_id, CASE WHEN $4::text = 'grid' THEN NULL ELSE 'fault_repair' END AS category,
           count(*) FILTER (WHERE restored_at <= etr)::int AS before, count(*)::int AS restored
      FROM routing.incidents
     WHERE parent_id IS NULL AND interrupted_until IS NOT NULL AND evidence_at >= $1 AND evidence_at < $2 AND etr IS NOT NULL
     GROUP BY 1, 2
  )
  SELECT coalesce(wo.grid_id, etr.grid_id) AS grid_id, coalesce(wo.category, etr.category) AS category,
         coalesce(wo.work_orders, 0) AS work_orders, wo.mtta, wo.mttr,
         coalesce(wo.on_time, 0) AS on_time, coalesce(wo.due, 0) AS due, coalesce(etr.before, 0) AS before, coalesce(etr.restored, 0) AS restored
    FROM wo FULL JOIN etr ON coalesce(etr.grid_id, '') = coalesce(wo.grid_id, '') AND coalesce(etr.category, '') = coalesce(wo.category, '')
   ORDER BY 1, 2`;
const ROWS_FROM_ROWS = rowsSql(WO_FROM_ROWS);
const ROWS_FROM_MONTHS = rowsSql(WO_FROM_MONTHS);

/** [from, to) as whole local months of `timeZone` (first days, YYYY-MM-DD), or null when it is not. */
function wholeMonths(timeZone: string, from: Date, to: Date): [string, string] | null {
  const first = (d: Date) => {
    const p = localParts(timeZone, d);
    const aligned = p.day === 1 && p.hour === 0 && p.minute === 0 && p.second === 0 && d.getTime() % 1000 === 0;
    return aligned ? `${p.year}-${String(p.month).padStart(2, '0')}-01` : null;
  };
  const [a, b] = [first(from), first(to)];
  return a && b ? [a, b] : null;
}

const REPEAT_SQL = `
  SELECT r.district_code, r.grid_id, r.incidents, d.lon, d.lat FROM (
    SELECT district_code, min(grid_id) AS grid_id, count(*)::int AS incidents
      FROM routing.incidents
     WHERE kind = 'district' AND opened_at >= $1 AND opened_at < $2 AND district_code IS NOT NULL
     GROUP BY district_code HAVING count(*) >= $3) AS r
    LEFT JOIN routing.districts d ON d.code = r.district_code
   ORDER BY 3 DESC, 1`;

/**
 * `via`: 'auto' reads the monthly rollup when the period is whole months of the rollup's zone
 * (routing.report_zone) and that zone is GD_TIME_ZONE, else the rows; 'rows' always the rows.
 */
export async function reportResponse(
  pool: Pick<Pool, 'query'>,
  query: ResponseQuery,
  context: { now: Date; timeZone: string; via?: 'auto' | 'rows' },
): Promise<ResponseReport> {
  const from = new Date(query.from);
  const to = new Date(query.to);
  const params: unknown[] = [from, to, context.now, query.groupBy];
  let sql = ROWS_FROM_ROWS;
  const months = context.via === 'rows' ? null : wholeMonths(context.timeZone, from, to);
  if (months) {
    const { rows: zone } = await pool.query<{ time_zone: string }>('SELECT time_zone FROM routing.report_zone');
    if (zone[0]?.time_zone === context.timeZone) {
      sql = ROWS_FROM_MONTHS;
      params.push(...months);
    }
  }
  const [{ rows }, { rows: repeats }] = await Promise.all([
    pool.query<{
      grid_id: string | null;
      category: string | null;
      work_orders: number;
      mtta: number | null;
      mttr: number | null;
      on_time: number;
      due: number;
      before: number;
      restored: number;
    }>(sql, params),
    pool.query<{ district_code: string; grid_id: string; incidents: number; lon: number | null; lat: number | null }>(REPEAT_SQL, [from, to, REPEAT_INCIDENTS]),
  ]);
  const share = (n: number, of: number) => (of > 0 ? round(n / of, 4) : null);
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    groupBy: query.groupBy,
    rows: rows.map((r) => ({
      key: [r.grid_id, r.category].filter((k) => k !== null).join('/'),
      gridId: r.grid_id,
      category: r.category,
      workOrders: r.work_orders,
      mtta: r.mtta === null ? null : round(r.mtta, 2),
      mttr: r.mttr === null ? null : round(r.mttr, 2),
      arrivalOnTime: share(r.on_time, r.due),
      etrAccuracy: share(r.before, r.restored),
      incidentsRestored: r.restored,
    })),
    repeatDistricts: repeats.map((r) => ({ districtCode: r.district_code, gridId: r.grid_id, incidents: r.incidents, lon: r.lon, lat: r.lat })),
  };
}
