-- Reports (docs/architecture.md#reports): the response report per grid AND category. Until now
-- routing.work_order_times held the primaries of incidents only (fault calls); it now holds every
-- work order grid-routing dispatches with a clock of its own (a merged call has none), keyed by
-- work-order id as before, so a new connection, a complaint or a billing query is timed too.
-- Existing rows are incident primaries: fault repairs.

ALTER TABLE routing.work_order_times
  ALTER COLUMN incident_id DROP NOT NULL,
  ADD COLUMN category text NOT NULL DEFAULT 'fault_repair';
ALTER TABLE routing.work_order_times ALTER COLUMN category DROP DEFAULT;

-- The response report scans a period by receipt and groups by grid and category: index-only.
DROP INDEX routing.work_order_times_received_idx;
CREATE INDEX work_order_times_received_idx ON routing.work_order_times (received_at)
  INCLUDE (grid_id, category, acknowledged_at, arrived_at, resolved_at, arrive_deadline);

-- The response report over long periods (docs/architecture.md#reports): a monthly rollup per
-- (local month, grid, category) of what the report sums, so a year of a province reads ~10^5 rows,
-- not 10^7. Kept by statement triggers on work_order_times in the transaction that changes it:
-- each statement adds its new rows' contribution and takes back its old rows', grouped and in key
-- order (one lock order for every writer: no deadlock between consumers' batches). A redelivery
-- changes no row (inserts ON CONFLICT DO NOTHING, updates only when a time moves), so it changes
-- no rollup either. Months are local to routing.report_zone (the report uses the rollup only when
-- GD_TIME_ZONE is that zone and the period is whole months; otherwise it reads the rows).
-- Durations in milliseconds (bigint): adding and taking back is exact.
CREATE TABLE routing.report_zone (
  only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  time_zone text NOT NULL
);
INSERT INTO routing.report_zone (time_zone) VALUES ('Asia/Shanghai');

CREATE TABLE routing.work_order_months (
  month                 date NOT NULL,
  grid_id               text NOT NULL,
  category              text NOT NULL,
  work_orders           integer NOT NULL,
  acknowledged          integer NOT NULL,
  ack_ms                bigint NOT NULL,
  resolved              integer NOT NULL,
  resolve_ms            bigint NOT NULL,
  with_deadline         integer NOT NULL,
  arrived_with_deadline integer NOT NULL,
  on_time               integer NOT NULL,
  PRIMARY KEY (month, grid_id, category)
);

-- Rows with a sign (+1 new, −1 old) → their contribution, summed per month, grid and category.
CREATE FUNCTION routing.work_order_months_apply(rows jsonb) RETURNS void LANGUAGE sql AS $$
  INSERT INTO routing.work_order_months AS m
  SELECT date_trunc('month', r.received_at AT TIME ZONE z.time_zone)::date, r.grid_id, r.category,
         sum(r.sign), sum(r.sign * (r.acknowledged_at IS NOT NULL)::int),
         sum(r.sign * coalesce((extract(epoch FROM r.acknowledged_at - r.received_at) * 1000)::bigint, 0)),
         sum(r.sign * (r.resolved_at IS NOT NULL)::int),
         sum(r.sign * coalesce((extract(epoch FROM r.resolved_at - r.received_at) * 1000)::bigint, 0)),
         sum(r.sign * (r.arrive_deadline IS NOT NULL)::int),
         sum(r.sign * (r.arrive_deadline IS NOT NULL AND r.arrived_at IS NOT NULL)::int),
         sum(r.sign * coalesce(r.arrived_at <= r.arrive_deadline, false)::int)
    FROM jsonb_to_recordset(rows) AS r(sign int, grid_id text, category text, received_at timestamptz, acknowledged_at timestamptz,
                                       arrived_at timestamptz, resolved_at timestamptz, arrive_deadline timestamptz)
    CROSS JOIN routing.report_zone z
   GROUP BY 1, 2, 3
   ORDER BY 1, 2, 3
  ON CONFLICT (month, grid_id, category) DO UPDATE SET
    work_orders = m.work_orders + EXCLUDED.work_orders, acknowledged = m.acknowledged + EXCLUDED.acknowledged,
    ack_ms = m.ack_ms + EXCLUDED.ack_ms, resolved = m.resolved + EXCLUDED.resolved, resolve_ms = m.resolve_ms + EXCLUDED.resolve_ms,
    with_deadline = m.with_deadline + EXCLUDED.with_deadline, arrived_with_deadline = m.arrived_with_deadline + EXCLUDED.arrived_with_deadline,
    on_time = m.on_time + EXCLUDED.on_time
$$;

CREATE FUNCTION routing.work_order_months_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM routing.work_order_months_apply((SELECT coalesce(jsonb_agg(to_jsonb(n) || '{"sign": 1}'), '[]') FROM new_rows n));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM routing.work_order_months_apply((SELECT coalesce(jsonb_agg(x), '[]') FROM (
      SELECT to_jsonb(o) || '{"sign": -1}' AS x FROM old_rows o UNION ALL SELECT to_jsonb(n) || '{"sign": 1}' FROM new_rows n) AS both_rows));
  ELSE
    PERFORM routing.work_order_months_apply((SELECT coalesce(jsonb_agg(to_jsonb(o) || '{"sign": -1}'), '[]') FROM old_rows o));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER work_order_months_insert AFTER INSERT ON routing.work_order_times
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION routing.work_order_months_trigger();
CREATE TRIGGER work_order_months_update AFTER UPDATE ON routing.work_order_times
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION routing.work_order_months_trigger();
CREATE TRIGGER work_order_months_delete AFTER DELETE ON routing.work_order_times
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION routing.work_order_months_trigger();

-- The rollup from the rows (here, and after a bulk load made with the triggers off).
CREATE FUNCTION routing.work_order_months_rebuild() RETURNS void LANGUAGE sql AS $$
  TRUNCATE routing.work_order_months;
  INSERT INTO routing.work_order_months
  SELECT date_trunc('month', w.received_at AT TIME ZONE z.time_zone)::date, w.grid_id, w.category, count(*),
         count(w.acknowledged_at), coalesce(sum((extract(epoch FROM w.acknowledged_at - w.received_at) * 1000)::bigint), 0),
         count(w.resolved_at), coalesce(sum((extract(epoch FROM w.resolved_at - w.received_at) * 1000)::bigint), 0),
         count(w.arrive_deadline), count(*) FILTER (WHERE w.arrive_deadline IS NOT NULL AND w.arrived_at IS NOT NULL),
         count(*) FILTER (WHERE w.arrived_at <= w.arrive_deadline)
    FROM routing.work_order_times w CROSS JOIN routing.report_zone z
   GROUP BY 1, 2, 3;
$$;
SELECT routing.work_order_months_rebuild();

-- Work orders whose arrive deadline is still ahead are not due yet: read raw (few, recent).
CREATE INDEX work_order_times_pending_idx ON routing.work_order_times (arrive_deadline) WHERE arrived_at IS NULL AND arrive_deadline IS NOT NULL;
