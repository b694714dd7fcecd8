import type pg from 'pg';

// A year of a province in routing's tables, made by PostgreSQL itself (generate_series): the
// report queries read routing.incidents, routing.work_order_times, routing.districts and
// routing.district_customers only, so that is what is generated — in the shapes grid-routing
// writes them (top-level incidents with evidence_at / interrupted_until, feeder incidents with
// their 台区 incidents under them, timed work orders of every category). Deterministic: every
// "random" figure is a hash of the row number.

export interface Volume {
  requests: number;
  incidents: number;
}

/** [0, 1) from a row number and a salt, in SQL. */
const u = (expr: string, salt: number) => `((hashint4((${expr})::int # ${salt}) & 2147483647)::float8 / 2147483648.0)`;

const YEAR_FROM = `'2025-01-01T00:00:00+08:00'::timestamptz`;
const YEAR_SECONDS = 365 * 86_400;
/** Three storm days carry 2 % of the year's incidents: the 2.5β method should find them. */
const STORM_DAYS = ['2025-07-28', '2025-08-16', '2025-09-03'];

export async function prepareDistricts(pool: pg.Pool): Promise<{ districts: number; feeders: number; grids: number; customers: number }> {
  // Customers per 台区 as a province has them (50–550 accounts per transformer), instead of
  // importing millions of accounts: the reports read routing.district_customers only.
  await pool.query(`TRUNCATE routing.district_customers`);
  await pool.query(`INSERT INTO routing.district_customers (district_code, customers)
                    SELECT code, 50 + (hashtext(code) & 511) FROM routing.districts`);
  await pool.query(`DROP TABLE IF EXISTS public.bench_districts`);
  await pool.query(`CREATE TABLE public.bench_districts AS
                    SELECT (row_number() OVER (ORDER BY d.code))::int AS n, d.code, d.grid_id, d.feeder_code, c.customers
                      FROM routing.districts d JOIN routing.district_customers c ON c.district_code = d.code`);
  await pool.query(`CREATE UNIQUE INDEX ON public.bench_districts (n)`);
  await pool.query(`DROP TABLE IF EXISTS public.bench_feeders`);
  await pool.query(`CREATE TABLE public.bench_feeders AS
                    SELECT (row_number() OVER (ORDER BY feeder_code))::int AS n, feeder_code, min(grid_id) AS grid_id, sum(customers)::int AS customers,
                           array_agg(code ORDER BY code) AS codes
                      FROM public.bench_districts WHERE feeder_code IS NOT NULL GROUP BY feeder_code`);
  await pool.query(`CREATE UNIQUE INDEX ON public.bench_feeders (n)`);
  const { rows } = await pool.query<{ districts: number; feeders: number; grids: number; customers: number }>(
    `SELECT (SELECT count(*) FROM public.bench_districts)::int AS districts, (SELECT count(*) FROM public.bench_feeders)::int AS feeders,
            (SELECT count(*) FROM routing.grids)::int AS grids, (SELECT sum(customers) FROM public.bench_districts)::int AS customers`,
  );
  return rows[0]!;
}

/**
 * Top-level incidents: 92 % of one 台区, 8 % of a feeder (with three 台区 incidents under each,
 * which the reports must not count again). Durations 2 min – 10 h (about 4 % momentary, ≤ 5 min).
 */
export async function generateIncidents(pool: pg.Pool, count: number, onProgress: (done: number) => void): Promise<void> {
  const chunk = 20_000;
  for (let from = 1; from <= count; from += chunk) {
    const to = Math.min(count, from + chunk - 1);
    await pool.query(
      `WITH g AS (
         SELECT i,
                CASE WHEN ${u('i', 11)} < 0.02 THEN (ARRAY[${STORM_DAYS.map((d) => `'${d}T00:00:00+08:00'::timestamptz`).join(',')}])[1 + (i % 3)] + ${u('i', 12)} * interval '1 day'
                     ELSE ${YEAR_FROM} + ${u('i', 13)} * ${YEAR_SECONDS} * interval '1 second' END AS start,
                interval '1 minute' * (2 + 598 * power(${u('i', 14)}, 3)) AS duration,
                ${u('i', 15)} < 0.08 AS feeder
           FROM generate_series($1::int, $2::int) AS i
       ), picked AS (
         SELECT g.*, d.code, d.grid_id AS d_grid, d.feeder_code AS d_feeder, d.customers AS d_customers,
                f.feeder_code AS f_code, f.grid_id AS f_grid, f.customers AS f_customers, f.codes
           FROM g
           JOIN public.bench_districts d ON d.n = 1 + (hashint4(g.i # 21) & 2147483647) % (SELECT count(*) FROM public.bench_districts)
           JOIN public.bench_feeders f ON f.n = 1 + (hashint4(g.i # 22) & 2147483647) % (SELECT count(*) FROM public.bench_feeders)
       ), top AS (
         INSERT INTO routing.incidents (id, district_code, grid_id, opened_at, last_call_at, call_count, urgency, status, origin, kind, feeder_code,
                                        district_codes, primary_request_id, etr, restored_at, restored_by, affected_customers, evidence_at)
         SELECT 'INC-' || i, CASE WHEN feeder THEN NULL ELSE code END, CASE WHEN feeder THEN f_grid ELSE d_grid END, start, start, 1, 'normal', 'closed', 'call',
                CASE WHEN feeder THEN 'feeder' ELSE 'district' END, CASE WHEN feeder THEN f_code ELSE d_feeder END,
                CASE WHEN feeder THEN codes ELSE ARRAY[code] END, 'wo-inc-' || i, start + interval '3 hours', start + duration, 'crew',
                CASE WHEN feeder THEN f_customers ELSE d_customers END, start
           FROM picked
         RETURNING id, kind, district_codes, grid_id, feeder_code, opened_at, restored_at
       )
       INSERT INTO routing.incidents (id, district_code, grid_id, opened_at, last_call_at, urgency, status, kind, feeder_code, district_codes, parent_id,
                                      restored_at, restored_by, affected_customers, evidence_at)
       SELECT t.id || '-' || k, t.district_codes[k], t.grid_id, t.opened_at, t.opened_at, 'normal', 'closed', 'district', t.feeder_code,
              ARRAY[t.district_codes[k]], t.id, t.restored_at, 'parent', 0, t.opened_at
         FROM top t, generate_series(1, least(3, cardinality(t.district_codes))) AS k
        WHERE t.kind = 'feeder'`,
      [from, to],
    );
    onProgress(to);
  }
}

const CATEGORIES = `(ARRAY['fault_repair','fault_repair','fault_repair','fault_repair','consultation','consultation','billing','billing','new_connection','complaint','service_request'])`;

/**
 * Timed work orders of every category over the year. Fault repairs: an arrive deadline 45 or
 * 90 min after receipt, arrival 15 min – 2 h; new connections a day; the rest no arrive stage.
 * Secondary indexes are dropped while loading and built again after (the same definitions); the
 * monthly rollup's triggers are off while loading and the rollup is built once after, as a bulk
 * import would (routing.work_order_months_rebuild, migration 009).
 */
export async function generateWorkOrders(pool: pg.Pool, count: number, onProgress: (done: number) => void): Promise<void> {
  const { rows: indexes } = await pool.query<{ name: string; def: string }>(
    `SELECT indexname AS name, indexdef AS def FROM pg_indexes
      WHERE schemaname = 'routing' AND tablename = 'work_order_times' AND indexname <> 'work_order_times_pkey'`,
  );
  for (const ix of indexes) await pool.query(`DROP INDEX routing.${ix.name}`);
  await pool.query('ALTER TABLE routing.work_order_times DISABLE TRIGGER USER');
  const chunk = 500_000;
  for (let from = 1; from <= count; from += chunk) {
    const to = Math.min(count, from + chunk - 1);
    await pool.query(
      `INSERT INTO routing.work_order_times (work_order_id, grid_id, category, received_at, arrive_deadline, acknowledged_at, arrived_at, resolved_at)
       SELECT 'wo-' || lpad(i::text, 10, '0'), d.grid_id, c.category, r.at,
              CASE c.category WHEN 'fault_repair' THEN r.at + interval '1 minute' * (CASE WHEN d.n % 3 = 0 THEN 90 ELSE 45 END)
                              WHEN 'new_connection' THEN r.at + interval '1 day' END,
              r.at + interval '1 minute' * (1 + 59 * ${u('i', 31)}),
              CASE WHEN c.category IN ('fault_repair', 'new_connection') THEN r.at + interval '1 minute' * (15 + 105 * ${u('i', 32)}) END,
              CASE WHEN ${u('i', 33)} < 0.97 THEN r.at + interval '1 minute' * (30 + 570 * ${u('i', 34)}) END
         FROM generate_series($1::int, $2::int) AS i
         CROSS JOIN LATERAL (SELECT ${YEAR_FROM} + ${u('i', 35)} * ${YEAR_SECONDS} * interval '1 second' AS at) r
         CROSS JOIN LATERAL (SELECT ${CATEGORIES}[1 + (hashint4(i # 36) & 2147483647) % 11] AS category) c
         JOIN public.bench_districts d ON d.n = 1 + (hashint4(i # 37) & 2147483647) % (SELECT count(*) FROM public.bench_districts)`,
      [from, to],
    );
    onProgress(to);
  }
  for (const ix of indexes) await pool.query(ix.def);
  await pool.query('ALTER TABLE routing.work_order_times ENABLE TRIGGER USER');
  await pool.query('SELECT routing.work_order_months_rebuild()');
}
