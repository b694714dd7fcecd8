-- Outages (DESIGN §10, docs/architecture.md#incidents): the incident is the unit of dispatch. It
-- stays open until restored (no more grouping window for joining); a feeder incident is the
-- predicted upstream fault its district incidents nest under. Existing rows are kept.

ALTER TABLE routing.incidents
  ALTER COLUMN district_code DROP NOT NULL,
  ADD COLUMN status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dispatched', 'en_route', 'arrived', 'restored', 'closed')),
  ADD COLUMN origin text NOT NULL DEFAULT 'call' CHECK (origin IN ('call', 'meter', 'planned')),
  ADD COLUMN kind text NOT NULL DEFAULT 'district' CHECK (kind IN ('district', 'feeder')),
  -- The feeder of a district incident's 台区, or the feeder incident's own line.
  ADD COLUMN feeder_code text,
  ADD COLUMN district_codes text[] NOT NULL DEFAULT '{}',
  ADD COLUMN parent_id text REFERENCES routing.incidents (id),
  ADD COLUMN primary_request_id text,
  -- NULL only on rows from before this migration that were never given one (read as opened_at).
  ADD COLUMN etr timestamptz,
  ADD COLUMN etr_source text NOT NULL DEFAULT 'policy' CHECK (etr_source IN ('policy', 'manual', 'planned')),
  -- The policy's restore window at opening, before any storm factor: a storm rescales from it.
  ADD COLUMN etr_base_ms bigint,
  ADD COLUMN planned_outage_id text,
  ADD COLUMN restored_at timestamptz,
  ADD COLUMN restored_by text CHECK (restored_by IN ('crew', 'meters', 'parent', 'children')),
  ADD COLUMN restoration_unconfirmed boolean NOT NULL DEFAULT false,
  ADD COLUMN affected_customers integer NOT NULL DEFAULT 0,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- Existing incidents: their 台区, their first call as primary, and their feeder.
UPDATE routing.incidents i SET
  district_codes = ARRAY[i.district_code],
  feeder_code = (SELECT d.feeder_code FROM routing.districts d WHERE d.code = i.district_code),
  primary_request_id = (SELECT r.request_id FROM routing.routed_requests r WHERE r.incident_id = i.id ORDER BY r.routed_at, r.request_id LIMIT 1),
  affected_customers = (SELECT count(*) FROM routing.customers c WHERE c.district_code = i.district_code),
  etr = i.opened_at;
-- Under the old rule an incident took calls only within the 15-minute default window of its
-- last call, and nothing followed its crew: one that has not heard a call for that long is taken
-- as over (closed), and of several in one 台区 only the latest may stay open.
UPDATE routing.incidents i SET status = 'closed'
 WHERE i.last_call_at < now() - interval '15 minutes'
    OR EXISTS (SELECT 1 FROM routing.incidents o WHERE o.district_code = i.district_code AND (o.last_call_at, o.id) > (i.last_call_at, i.id));
UPDATE routing.incidents SET status = 'dispatched' WHERE status = 'open' AND primary_request_id IS NOT NULL;

-- Rule 1: a 台区 is never in two open district incidents.
CREATE UNIQUE INDEX incidents_open_district_idx ON routing.incidents (district_code)
  WHERE kind = 'district' AND status NOT IN ('restored', 'closed');
CREATE UNIQUE INDEX incidents_open_feeder_idx ON routing.incidents (feeder_code)
  WHERE kind = 'feeder' AND status NOT IN ('restored', 'closed');
CREATE INDEX incidents_open_by_feeder_idx ON routing.incidents (feeder_code, opened_at)
  WHERE status NOT IN ('restored', 'closed');
CREATE INDEX incidents_parent_idx ON routing.incidents (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX incidents_primary_idx ON routing.incidents (primary_request_id) WHERE primary_request_id IS NOT NULL;
-- GET /v1/incidents: newest first, keyset on (opened_at, id).
CREATE INDEX incidents_list_idx ON routing.incidents (opened_at DESC, id DESC);

ALTER TABLE routing.routed_requests
  ADD COLUMN role text CHECK (role IN ('primary', 'merged'));
UPDATE routing.routed_requests r SET role = CASE WHEN i.primary_request_id = r.request_id THEN 'primary' ELSE 'merged' END
  FROM routing.incidents i WHERE r.incident_id = i.id;

-- Storm mode (PUT /v1/storm): a row per grid, or '*' for every grid; a grid's own row wins over '*'.
CREATE TABLE routing.storm_mode (
  grid_id    text PRIMARY KEY,
  active     boolean NOT NULL,
  factor     double precision NOT NULL CHECK (factor >= 1),
  updated_at timestamptz NOT NULL DEFAULT now()
);
