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
