import type { Pool } from 'pg';
import { dayNumberOfIsoDate, zonedInstant } from '@griddispatch/sla';
import { indices, round, SUSTAINED_MS } from '../domain/reliability.ts';
import type { ReliabilityRow } from './report-reliability.ts';

// The sums behind the reliability report and its series (docs/architecture.md#reports): per key
// (grid or feeder) and per bucket (the report's one period, or the series' months or days), the
// customer interruptions starting in the bucket and the customer-minutes inside it — one scan of
// the incidents for all buckets.

/** Top-level, finished, sustained interruptions (the partial indexes' predicate, so they are used). */
const COUNTED = `parent_id IS NULL AND interrupted_until IS NOT NULL AND interrupted_until - evidence_at > $SUSTAINED * interval '1 millisecond'`;

export const counted = (n: number) => COUNTED.replace('$SUSTAINED', `$${n}`);

/**
 * $1/$2 the buckets' starts and ends, $3/$4 their whole span (for the index). Summed per 台区
 * (district incidents) and per feeder (feeder incidents) first, so the joins are 台区-sized whatever
 * the number of incidents; a feeder's sums are then shared among its 台区 in proportion to their
 * customers, so by grid a feeder's customers land in their own grids. $5/$6: when not null, only
 * interruptions starting inside one of these [start, end) ranges — the major event days, summed
 * apart and subtracted (sums add up: "all minus those" is "all but those", and the big scan need
 * not wait for the major-event fit). A follow-up incident (`reopened_from`: a callback answered
 * `still_out`) continues the restored one's interruption: its minutes count, no new interruption.
 */
const SUMS_SQL = `
  WITH b AS (SELECT i::int AS bucket, s, e FROM unnest($1::timestamptz[], $2::timestamptz[]) WITH ORDINALITY AS b(s, e, i)),
  by_code AS (
    SELECT b.bucket, n.kind, coalesce(n.district_code, n.feeder_code) AS code,
           sum(CASE WHEN n.evidence_at >= b.s AND n.reopened_from IS NULL THEN n.affected_customers ELSE 0 END)::float8 AS ci,
           sum(n.affected_customers * extract(epoch FROM least(n.interrupted_until, b.e) - greatest(n.evidence_at, b.s)) / 60)::float8 AS cmi
      FROM routing.incidents n JOIN b ON n.interrupted_until > b.s AND n.evidence_at < b.e
     WHERE n.interrupted_until > $3 AND n.evidence_at < $4 AND ${counted(7)}
       AND ($5::timestamptz[] IS NULL OR EXISTS (SELECT 1 FROM unnest($5::timestamptz[], $6::timestamptz[]) AS m(s, e) WHERE n.evidence_at >= m.s AND n.evidence_at < m.e))
     GROUP BY 1, 2, 3
  ),
  per_district AS MATERIALIZED (
    SELECT d.code, d.feeder_code, CASE WHEN $8 = 'grid' THEN d.grid_id ELSE coalesce(d.feeder_code, '(none)') END AS key,
           coalesce(c.customers, 0)::float8 AS n
      FROM routing.districts d LEFT JOIN routing.district_customers c ON c.district_code = d.code
  ),
  feeder_total AS (SELECT feeder_code, sum(n) AS total FROM per_district WHERE feeder_code IS NOT NULL GROUP BY 1),
  hits AS (
    SELECT b.bucket, p.key, b.ci, b.cmi FROM by_code b JOIN per_district p ON p.code = b.code WHERE b.kind = 'district'
    UNION ALL
    SELECT b.bucket, p.key, b.ci * p.n / t.total, b.cmi * p.n / t.total
      FROM by_code b JOIN feeder_total t ON t.feeder_code = b.code AND t.total > 0 JOIN per_district p ON p.feeder_code = b.code
     WHERE b.kind = 'feeder'
  ),
  hit AS (SELECT bucket, key, sum(ci)::float8 AS ci, sum(cmi)::float8 AS cmi FROM hits GROUP BY 1, 2),
  served AS (SELECT key, sum(n)::float8 AS served FROM per_district GROUP BY 1)
  SELECT coalesce(served.key, hit.key) AS key, coalesce(served.served, 0) AS served, hit.bucket, coalesce(hit.ci, 0) AS ci, coalesce(hit.cmi, 0) AS cmi
    FROM served FULL JOIN hit ON hit.key = served.key`;

export interface Bucket {
  from: Date;
  to: Date;
}

/** Per key: its customers served and, per bucket, CI and CMI. */
export type Sums = Map<string, { served: number; ci: number[]; cmi: number[] }>;

/** The sums per key and bucket; with `days` (local dates), only of interruptions starting on them. */
export async function reliabilitySums(
  pool: Pick<Pool, 'query'>,
  timeZone: string,
  query: { buckets: readonly Bucket[]; groupBy: 'grid' | 'feeder' },
  days?: readonly string[],
): Promise<Sums> {
  const { buckets } = query;
  const ranges = days?.map((day) => {
    const n = dayNumberOfIsoDate(day);
    return [new Date(zonedInstant(timeZone, n, 0)), new Date(zonedInstant(timeZone, n + 1, 0))] as const;
  });
  const { rows } = await pool.query<{ key: string; served: number; bucket: number | null; ci: number; cmi: number }>(SUMS_SQL, [
    buckets.map((b) => b.from),
    buckets.map((b) => b.to),
    buckets[0]!.from,
    buckets.at(-1)!.to,
    ranges?.map((r) => r[0]) ?? null,
    ranges?.map((r) => r[1]) ?? null,
    SUSTAINED_MS,
    query.groupBy,
  ]);
  const sums: Sums = new Map();
  for (const r of rows) {
    let s = sums.get(r.key);
    if (!s) sums.set(r.key, (s = { served: r.served, ci: buckets.map(() => 0), cmi: buckets.map(() => 0) }));
    if (r.bucket !== null) {
      s.ci[r.bucket - 1] = r.ci;
      s.cmi[r.bucket - 1] = r.cmi;
    }
  }
  return sums;
}

/** The rows of bucket `i`, by key: all sums minus `minus` (the major event days'), as IEEE 1366 indices. */
export function rowsOf(all: Sums, minus: Sums | undefined, i: number, bucket: Bucket): ReliabilityRow[] {
  const periodMinutes = (bucket.to.getTime() - bucket.from.getTime()) / 60_000;
  return [...all.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, s]) => {
      const less = minus?.get(key);
      // A difference of sums can be off zero by a rounding error; the figures are rounded anyway.
      const ci = Math.max(0, s.ci[i]! - (less?.ci[i] ?? 0));
      const cmi = Math.max(0, s.cmi[i]! - (less?.cmi[i] ?? 0));
      const x = indices(s.served, ci, cmi, periodMinutes);
      return {
        key,
        customersServed: Math.round(s.served),
        customerInterruptions: round(ci, 4),
        customerMinutes: round(cmi, 4),
        saifi: round(x.saifi, 6),
        saidi: round(x.saidi, 4),
        caidi: x.caidi === null ? null : round(x.caidi, 4),
        asai: round(x.asai, 8),
      };
    });
}
