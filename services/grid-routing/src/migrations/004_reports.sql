-- Reports (DESIGN §12): the interruption of each incident, as IEEE 1366 counts it, kept on the
-- incident row itself so a report reads one table by an index, never meter or call history.
--
-- evidence_at: the earliest evidence of the outage (its first call's report time, the first
--   power-off of its 台区's meters that opened or fed it, a child's evidence for a feeder
--   incident); written by every incident write, only ever moved earlier (incident-row.ts).
-- confirmed_at: when the meters confirmed a restoration the crew had reported while they were
--   still off (restorationUnconfirmed → false).
-- interrupted_until: the interruption's end — the meters' confirmation when one came, else
--   restoredAt (a restoration never confirmed counts as the crew reported it). Null while open.

ALTER TABLE routing.incidents
  ADD COLUMN evidence_at timestamptz,
  ADD COLUMN confirmed_at timestamptz;

-- Existing incidents: their opening, or an earlier power-off recorded against them.
UPDATE routing.incidents i SET evidence_at = least(i.opened_at,
  (SELECT min(m.at) FROM routing.meter_events m WHERE m.incident_id = i.id AND m.kind = 'power_off'));
UPDATE routing.incidents p SET evidence_at = least(p.evidence_at, (SELECT min(c.evidence_at) FROM routing.incidents c WHERE c.parent_id = p.id))
 WHERE p.kind = 'feeder';

ALTER TABLE routing.incidents
  ALTER COLUMN evidence_at SET NOT NULL,
  ADD COLUMN interrupted_until timestamptz GENERATED ALWAYS AS (coalesce(confirmed_at, restored_at)) STORED;

-- Interruptions counted by the reports are the top-level ones (a feeder incident stands for its
-- children). By start: the period's and the major-event history's (daily SAIDI, index-only);
-- by end: interruptions that began before the period and ran into it.
CREATE INDEX incidents_interruption_start_idx ON routing.incidents (evidence_at)
  INCLUDE (interrupted_until, affected_customers, kind, district_code, feeder_code)
  WHERE parent_id IS NULL AND interrupted_until IS NOT NULL;
CREATE INDEX incidents_interruption_end_idx ON routing.incidents (interrupted_until)
  WHERE parent_id IS NULL AND interrupted_until IS NOT NULL;

-- The response report (DESIGN §12): per primary work order of an incident, its receipt and the
-- arrive deadline of the plan computed when it was dispatched (written with the routing decision),
-- then the crew's first acknowledge, arrival and resolve (their own `at`), written by the
-- work-order consumer — earliest kept, so a redelivered or repeated event changes nothing.
-- Kept as long as incidents (no personal data).
CREATE TABLE routing.work_order_times (
  work_order_id   text PRIMARY KEY,
  incident_id     text NOT NULL,
  grid_id         text NOT NULL,
  received_at     timestamptz NOT NULL,
  arrive_deadline timestamptz,
  acknowledged_at timestamptz,
  arrived_at      timestamptz,
  resolved_at     timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_order_times_received_idx ON routing.work_order_times (received_at) INCLUDE (grid_id);
-- Repeat outages per 台区 (district incidents by opening time).
CREATE INDEX incidents_district_opened_idx ON routing.incidents (opened_at, district_code) WHERE kind = 'district';

-- Customers per 台区 (customers served, the reports' denominator), refreshed by every customers
-- import (apply-records.ts): a report reads one row per 台区, not millions of accounts.
CREATE TABLE routing.district_customers (
  district_code text PRIMARY KEY,
  customers     integer NOT NULL
);
INSERT INTO routing.district_customers (district_code, customers)
  SELECT district_code, count(*) FROM routing.customers GROUP BY district_code;
