import type { Pool } from 'pg';
import { z } from 'zod';
import { IsoDateTime } from '@griddispatch/contracts';
import { MED_STANDARD_YEARS, medThreshold, round, SUSTAINED_MS } from '../domain/reliability.ts';
import { counted, reliabilitySums, rowsOf, type Sums } from './reliability-sums.ts';

// GET /v1/reports/reliability (docs/architecture.md#reports): IEEE 1366 indices per grid or feeder over [from, to).
//
// What counts, decided here and in docs (services/grid-routing/README.md#reports):
// - An interruption is a top-level incident (no parent) with an end: it starts at `evidence_at`
//   (its earliest evidence) and ends at `interrupted_until` (the meters' confirmation when a crew
//   restored it while they still reported off, else restoredAt). An incident not yet restored is
//   not counted: its figures appear, once, when the restoration arrives (however late).
// - A feeder incident stands for its children: its customers (every 台区 of the feeder) are
//   counted once, over its own interruption, and its child incidents are not counted at all.
// - Sustained only: end − start > 5 min, judged on the whole interruption.
// - Customer interruptions: affectedCustomers, in the period the interruption starts in;
//   customer-minutes: affectedCustomers × the minutes of it inside [from, to) (clipped).
//   By grid, a feeder incident's customers are shared among its 台区's grids by their customers.
// - A follow-up incident (a callback answered `still_out`, `reopened_from` set) continues the
//   restored incident's interruption: it starts where that one ended (its evidence_at), so their
//   minutes never overlap, and it adds minutes but no customer interruption.
// - Customers served: the customers of the group's 台区 now (accounts have no history), from
//   routing.district_customers (refreshed by every customers import), not the accounts themselves.
// - Major event days: the 2.5β threshold fitted on the daily SAIDI (whole system, interruptions
//   accrued to the day, in GD_TIME_ZONE, they start on) of the five years before `to`, or of as
//   many days as there are; an interruption starting on a major event day is left out of the rows
//   unless includeMed=true.

const GroupBy = z.enum(['grid', 'feeder']);
const MAX_RANGE_MS = 6 * 366 * 86_400_000;

export const ReliabilityQuery = z
  .object({
    from: IsoDateTime,
    to: IsoDateTime,
    groupBy: GroupBy.default('grid'),
    includeMed: z.enum(['true', 'false']).default('false'),
  })
  .strict()
  .superRefine((q, ctx) => {
    const span = Date.parse(q.to) - Date.parse(q.from);
    if (span <= 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must be after from' });
    else if (span > MAX_RANGE_MS) ctx.addIssue({ code: 'custom', path: ['to'], message: 'at most six years' });
  });
export type ReliabilityQuery = z.output<typeof ReliabilityQuery>;

export const ReliabilityRow = z.object({
  key: z.string(),
  customersServed: z.number().int(),
  customerInterruptions: z.number(),
  customerMinutes: z.number(),
  saifi: z.number(),
  saidi: z.number(),
  caidi: z.number().nullable(),
  asai: z.number(),
});
export type ReliabilityRow = z.infer<typeof ReliabilityRow>;

export const MedDay = z.object({ day: z.string(), saidi: z.number(), customerMinutes: z.number() });

export const MedMethod = z.object({
  method: z.literal('IEEE 1366 2.5β'),
  timeZone: z.string(),
  historyFrom: z.string(),
  historyTo: z.string(),
  standardYears: z.number(),
  /** Years from the first day with an interruption in the history to `to` (less than 5: the threshold is fitted on what there is). */
  yearsAvailable: z.number(),
  /** Days with a sustained interruption the threshold was fitted on. */
  days: z.number().int(),
  alpha: z.number().nullable(),
  beta: z.number().nullable(),
  /** T_MED in SAIDI minutes; null with fewer than two days to fit (then no day is a major event day). */
  tMed: z.number().nullable(),
  note: z.string(),
});

export const ReliabilityReport = z.object({
  from: z.string(),
  to: z.string(),
  groupBy: GroupBy,
  rows: z.array(ReliabilityRow),
  medDays: z.array(MedDay),
  excludedMed: z.boolean(),
  medMethod: MedMethod,
});
export type ReliabilityReport = z.infer<typeof ReliabilityReport>;

/** Daily SAIDI numerators over the history, by the local day each interruption starts on. */
const DAILY_SQL = `
  SELECT to_char(day, 'YYYY-MM-DD') AS day, cmi, in_period FROM (
    SELECT (evidence_at AT TIME ZONE $3)::date AS day,
           sum(affected_customers * extract(epoch FROM interrupted_until - evidence_at) / 60)::float8 AS cmi,
           bool_or(evidence_at >= $4) AS in_period
      FROM routing.incidents
     WHERE evidence_at >= $1 AND evidence_at < $2 AND ${counted(5)}
     GROUP BY 1) AS daily
   ORDER BY daily.day`;

function yearsBefore(at: Date, years: number): Date {
  const d = new Date(at);
  d.setUTCFullYear(d.getUTCFullYear() - years);
  return d;
}

/** The major event days of [from, to): the 2.5β threshold fitted on the five years before `to`. */
export async function fitMajorEventDays(pool: Pick<Pool, 'query'>, timeZone: string, from: Date, to: Date) {
  const historyFrom = yearsBefore(to, MED_STANDARD_YEARS);
  const [{ rows: totals }, { rows: daily }] = await Promise.all([
    pool.query<{ n: number }>('SELECT coalesce(sum(customers), 0)::float8 AS n FROM routing.district_customers'),
    pool.query<{ day: string; cmi: number; in_period: boolean }>(DAILY_SQL, [historyFrom, to, timeZone, from, SUSTAINED_MS]),
  ]);
  const system = totals[0]?.n ?? 0;
  const saidiOf = (cmi: number) => (system > 0 ? cmi / system : 0);
  const fit = medThreshold(daily.map((d) => saidiOf(d.cmi)));
  const medDays = fit.tMed === null ? [] : daily.filter((d) => d.in_period && saidiOf(d.cmi) > fit.tMed!);
  return {
    historyFrom,
    fit,
    firstDay: daily[0]?.day,
    medDays: medDays.map((d) => ({ day: d.day, saidi: round(saidiOf(d.cmi), 4), customerMinutes: round(d.cmi, 4) })),
  };
}

/**
 * The rows of [from, to), interruptions starting on `excludedDays` (local dates) left out: all of
 * them minus those (`all`: the sums of every interruption, when the caller started that query
 * already, e.g. while the major event days were being fitted).
 */
export async function reliabilityRows(
  pool: Pick<Pool, 'query'>,
  timeZone: string,
  range: { from: Date; to: Date; groupBy: ReliabilityQuery['groupBy'] },
  excludedDays: readonly string[],
  all: Promise<Sums> = reliabilitySums(pool, timeZone, { buckets: [range], groupBy: range.groupBy }),
): Promise<ReliabilityRow[]> {
  const [sums, minus] = await Promise.all([
    all,
    excludedDays.length > 0 ? reliabilitySums(pool, timeZone, { buckets: [range], groupBy: range.groupBy }, excludedDays) : undefined,
  ]);
  return rowsOf(sums, minus, 0, range);
}

export async function reportReliability(pool: Pick<Pool, 'query'>, timeZone: string, query: ReliabilityQuery): Promise<ReliabilityReport> {
  const from = new Date(query.from);
  const to = new Date(query.to);
  const includeMed = query.includeMed === 'true';
  const range = { from, to, groupBy: query.groupBy };
  // The big scan runs while the major event days are fitted (they are subtracted after).
  const all = reliabilitySums(pool, timeZone, { buckets: [range], groupBy: range.groupBy });
  all.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  const { historyFrom, fit, firstDay, medDays } = await fitMajorEventDays(pool, timeZone, from, to);
  const rows = await reliabilityRows(pool, timeZone, range, includeMed ? [] : medDays.map((d) => d.day), all);
  const yearsAvailable = firstDay ? Math.min(MED_STANDARD_YEARS, (to.getTime() - Date.parse(`${firstDay}T00:00:00Z`)) / (365.25 * 86_400_000)) : 0;
  const short = yearsAvailable < MED_STANDARD_YEARS;
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    groupBy: query.groupBy,
    rows,
    medDays,
    excludedMed: !includeMed && medDays.length > 0,
    medMethod: {
      method: 'IEEE 1366 2.5β',
      timeZone,
      historyFrom: historyFrom.toISOString(),
      historyTo: to.toISOString(),
      standardYears: MED_STANDARD_YEARS,
      yearsAvailable: round(yearsAvailable, 2),
      days: fit.days,
      alpha: fit.alpha === null ? null : round(fit.alpha, 6),
      beta: fit.beta === null ? null : round(fit.beta, 6),
      tMed: fit.tMed === null ? null : round(fit.tMed, 4),
      note: short
        ? `fewer than the standard ${MED_STANDARD_YEARS} years of data: T_MED fitted on the ${fit.days} days with a sustained interruption from ${firstDay ?? '—'} to ${to.toISOString()} (the report period included)`
        : `T_MED fitted on the ${fit.days} days with a sustained interruption in the ${MED_STANDARD_YEARS} years before ${to.toISOString()}`,
    },
  };
}
