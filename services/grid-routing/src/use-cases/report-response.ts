import type { Pool } from 'pg';
import { z } from 'zod';
import { IsoDateTime } from '@griddispatch/contracts';
import { round } from '../domain/reliability.ts';

// GET /v1/reports/response (docs/architecture.md#incidents, reports): how fast crews answered outages, per grid, over [from, to).
// From what grid-routing holds itself: routing.work_order_times (the incidents' primary work
// orders: receipt, the arrive deadline of the plan computed at dispatch, the crew's first
// acknowledge / arrival / resolve at their own `at`) and routing.incidents.
// - mtta, mttr: mean minutes from receipt to the first acknowledge / resolve, over the primaries
//   received in the period that have one (null with none).
// - arrivalOnTime: arrived by the arrive deadline / primaries with a deadline that arrived or whose
//   deadline has passed (one not arrived by then is late; one still in time is not counted yet).
// - etrAccuracy: top-level incidents starting in the period and restored, restored by their ETR
//   (the ETR as it stood: manual, policy or planned) / all of them; by the incident's grid.
// - repeatDistricts: 台区 with ≥ 3 district incidents opened in the period.

export const REPEAT_INCIDENTS = 3;
const MAX_RANGE_MS = 6 * 366 * 86_400_000;

export const ResponseQuery = z
  .object({ from: IsoDateTime, to: IsoDateTime, groupBy: z.enum(['grid']).default('grid') })
  .strict()
  .superRefine((q, ctx) => {
    const span = Date.parse(q.to) - Date.parse(q.from);
    if (span <= 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must be after from' });
    else if (span > MAX_RANGE_MS) ctx.addIssue({ code: 'custom', path: ['to'], message: 'at most six years' });
  });
export type ResponseQuery = z.output<typeof ResponseQuery>;

export const ResponseRow = z.object({
  key: z.string(),
  workOrders: z.number().int(),
  mtta: z.number().nullable(),
  mttr: z.number().nullable(),
  arrivalOnTime: z.number().nullable(),
  etrAccuracy: z.number().nullable(),
  incidentsRestored: z.number().int(),
});
export type ResponseRow = z.infer<typeof ResponseRow>;

export const RepeatDistrict = z.object({ districtCode: z.string(), gridId: z.string(), incidents: z.number().int() });

export const ResponseReport = z.object({
  from: z.string(),
  to: z.string(),
  groupBy: z.literal('grid'),
  rows: z.array(ResponseRow),
  repeatDistricts: z.array(RepeatDistrict),
});
export type ResponseReport = z.infer<typeof ResponseReport>;

const ROWS_SQL = `
  WITH wo AS (
    SELECT grid_id AS key, count(*)::int AS work_orders,
           (avg(extract(epoch FROM acknowledged_at - received_at)) FILTER (WHERE acknowledged_at IS NOT NULL) / 60)::float8 AS mtta,
           (avg(extract(epoch FROM resolved_at - received_at)) FILTER (WHERE resolved_at IS NOT NULL) / 60)::float8 AS mttr,
           count(*) FILTER (WHERE arrived_at <= arrive_deadline)::int AS on_time,
           count(*) FILTER (WHERE arrive_deadline IS NOT NULL AND (arrived_at IS NOT NULL OR arrive_deadline < $3))::int AS due
      FROM routing.work_order_times WHERE received_at >= $1 AND received_at < $2 GROUP BY 1
  ),
  etr AS (
    SELECT grid_id AS key, count(*) FILTER (WHERE restored_at <= etr)::int AS before, count(*)::int AS restored
      FROM routing.incidents
     WHERE parent_id IS NULL AND interrupted_until IS NOT NULL AND evidence_at >= $1 AND evidence_at < $2 AND etr IS NOT NULL
     GROUP BY 1
  )
  SELECT coalesce(wo.key, etr.key) AS key, coalesce(wo.work_orders, 0) AS work_orders, wo.mtta, wo.mttr,
         coalesce(wo.on_time, 0) AS on_time, coalesce(wo.due, 0) AS due, coalesce(etr.before, 0) AS before, coalesce(etr.restored, 0) AS restored
    FROM wo FULL JOIN etr ON etr.key = wo.key
   ORDER BY 1`;

const REPEAT_SQL = `
  SELECT district_code, min(grid_id) AS grid_id, count(*)::int AS incidents
    FROM routing.incidents
   WHERE kind = 'district' AND opened_at >= $1 AND opened_at < $2 AND district_code IS NOT NULL
   GROUP BY district_code HAVING count(*) >= $3
   ORDER BY 3 DESC, 1`;

export async function reportResponse(pool: Pick<Pool, 'query'>, query: ResponseQuery, now: Date): Promise<ResponseReport> {
  const from = new Date(query.from);
  const to = new Date(query.to);
  const [{ rows }, { rows: repeats }] = await Promise.all([
    pool.query<{ key: string; work_orders: number; mtta: number | null; mttr: number | null; on_time: number; due: number; before: number; restored: number }>(ROWS_SQL, [
      from,
      to,
      now,
    ]),
    pool.query<{ district_code: string; grid_id: string; incidents: number }>(REPEAT_SQL, [from, to, REPEAT_INCIDENTS]),
  ]);
  const share = (n: number, of: number) => (of > 0 ? round(n / of, 4) : null);
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    groupBy: 'grid',
    rows: rows.map((r) => ({
      key: r.key,
      workOrders: r.work_orders,
      mtta: r.mtta === null ? null : round(r.mtta, 2),
      mttr: r.mttr === null ? null : round(r.mttr, 2),
      arrivalOnTime: share(r.on_time, r.due),
      etrAccuracy: share(r.before, r.restored),
      incidentsRestored: r.restored,
    })),
    repeatDistricts: repeats.map((r) => ({ districtCode: r.district_code, gridId: r.grid_id, incidents: r.incidents })),
  };
}
