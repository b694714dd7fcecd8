import type { Pool } from 'pg';
import { z } from 'zod';
import { IsoDateTime } from '@griddispatch/contracts';
import { HttpError } from '@griddispatch/http';
import { dayNumberOfIsoDate, localParts, zonedInstant } from '@griddispatch/sla';
import { reliabilitySums, rowsOf } from './reliability-sums.ts';
import { fitMajorEventDays, MedDay } from './report-reliability.ts';

// GET /v1/reports/reliability/series (docs/architecture.md#reports): SAIDI and SAIFI per grid or
// feeder over time — what the board's reports page draws as lines. Each bucket is a local calendar
// month or day in GD_TIME_ZONE, clipped to [from, to), counted as the reliability report counts
// (interruptions by the bucket they start in, customer-minutes clipped to it). The major event
// days are those of the whole range (one 2.5β fit on the five years before `to`, as IEEE 1366
// fits one threshold per reporting period, not one per day), left out unless includeMed=true. So
// a point equals `GET /v1/reports/reliability` over its bucket when the bucket holds no major
// event day of the range, and the buckets' customer-minutes add up to the range's report.

const Interval = z.enum(['month', 'day']);
const MAX_BUCKETS = { month: 72, day: 93 } as const;

export const ReliabilitySeriesQuery = z
  .object({
    from: IsoDateTime,
    to: IsoDateTime,
    groupBy: z.enum(['grid', 'feeder']).default('grid'),
    interval: Interval.default('month'),
    includeMed: z.enum(['true', 'false']).default('false'),
  })
  .strict()
  .refine((q) => Date.parse(q.to) > Date.parse(q.from), { path: ['to'], message: 'to must be after from' });
export type ReliabilitySeriesQuery = z.output<typeof ReliabilitySeriesQuery>;

export const ReliabilitySeries = z.object({
  from: z.string(),
  to: z.string(),
  groupBy: z.enum(['grid', 'feeder']),
  interval: Interval,
  timeZone: z.string(),
  buckets: z.array(z.object({ label: z.string().describe('YYYY-MM or YYYY-MM-DD, local'), from: z.string(), to: z.string() })),
  /** One per key, its values in bucket order (0 in a bucket without interruptions). */
  series: z.array(z.object({ key: z.string(), saidi: z.array(z.number()), saifi: z.array(z.number()) })),
  medDays: z.array(MedDay),
});
export type ReliabilitySeries = z.infer<typeof ReliabilitySeries>;

const pad = (n: number) => String(n).padStart(2, '0');

/** Local calendar months or days covering [from, to), clipped to it. */
export function buckets(timeZone: string, from: Date, to: Date, interval: 'month' | 'day'): { label: string; from: Date; to: Date }[] {
  const out: { label: string; from: Date; to: Date }[] = [];
  let start = from.getTime();
  while (start < to.getTime()) {
    const p = localParts(timeZone, start);
    const label = interval === 'month' ? `${p.year}-${pad(p.month)}` : `${p.year}-${pad(p.month)}-${pad(p.day)}`;
    const nextDay =
      interval === 'month'
        ? dayNumberOfIsoDate(p.month === 12 ? `${p.year + 1}-01-01` : `${p.year}-${pad(p.month + 1)}-01`)
        : dayNumberOfIsoDate(`${p.year}-${pad(p.month)}-${pad(p.day)}`) + 1;
    const end = Math.min(zonedInstant(timeZone, nextDay, 0), to.getTime());
    out.push({ label, from: new Date(start), to: new Date(end) });
    if (out.length > MAX_BUCKETS[interval]) {
      const message = `at most ${MAX_BUCKETS[interval]} ${interval}s from \`from\` to \`to\``;
      throw new HttpError(400, 'validation_failed', `to: ${message}`, [{ in: 'querystring', path: 'to', message }]);
    }
    start = end;
  }
  return out;
}

export async function reportReliabilitySeries(pool: Pick<Pool, 'query'>, timeZone: string, query: ReliabilitySeriesQuery): Promise<ReliabilitySeries> {
  const from = new Date(query.from);
  const to = new Date(query.to);
  const list = buckets(timeZone, from, to, query.interval);
  const series = new Map<string, { saidi: number[]; saifi: number[] }>();
  const bucketed = { buckets: list, groupBy: query.groupBy };
  // One scan for every bucket, while the major event days are fitted; theirs summed apart after.
  const all = reliabilitySums(pool, timeZone, bucketed);
  all.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  const { medDays } = await fitMajorEventDays(pool, timeZone, from, to);
  const [sums, minus] = await Promise.all([
    all,
    query.includeMed === 'true' || medDays.length === 0
      ? undefined
      : reliabilitySums(
          pool,
          timeZone,
          bucketed,
          medDays.map((d) => d.day),
        ),
  ]);
  for (const [i, b] of list.entries()) {
    for (const row of rowsOf(sums, minus, i, b)) {
      let s = series.get(row.key);
      if (!s) series.set(row.key, (s = { saidi: list.map(() => 0), saifi: list.map(() => 0) }));
      s.saidi[i] = row.saidi;
      s.saifi[i] = row.saifi;
    }
  }
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    groupBy: query.groupBy,
    interval: query.interval,
    timeZone,
    buckets: list.map((b) => ({ label: b.label, from: b.from.toISOString(), to: b.to.toISOString() })),
    series: [...series.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, s]) => ({ key, ...s })),
    medDays,
  };
}
