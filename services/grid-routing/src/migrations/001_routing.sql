-- grid-routing owns schema `routing`. `migrate` (packages/db) creates the schema, routing.outbox
-- and routing.inbox before this file runs.

-- Grids: area (社区/村, administrative code), feeder (10 kV line) or district (one or more 台区).
CREATE TABLE routing.grids (
  id              text PRIMARY KEY,
  name            text NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('area', 'feeder', 'district')),
  parent_id       text REFERENCES routing.grids (id) DEFERRABLE INITIALLY DEFERRED,
  area_type       text NOT NULL CHECK (area_type IN ('urban', 'rural', 'remote')),
  community_code  text,
  polygon         jsonb,
  wecom_robot_url text,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX grids_parent_idx ON routing.grids (parent_id);

CREATE TABLE routing.feeders (
  code         text PRIMARY KEY,
  name         text NOT NULL,
  area_grid_id text REFERENCES routing.grids (id) DEFERRABLE INITIALLY DEFERRED,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- 台区 (transformer districts).
CREATE TABLE routing.districts (
  code        text PRIMARY KEY,
  name        text NOT NULL,
  feeder_code text,
  grid_id     text NOT NULL REFERENCES routing.grids (id) DEFERRABLE INITIALLY DEFERRED,
  lon         double precision,
  lat         double precision,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX districts_grid_idx ON routing.districts (grid_id);

-- Communities (社区/村) by administrative code, each served by one area grid.
CREATE TABLE routing.communities (
  code       text PRIMARY KEY,
  name       text NOT NULL,
  grid_id    text NOT NULL REFERENCES routing.grids (id) DEFERRABLE INITIALLY DEFERRED,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Customer accounts (户号). Looked up per request by primary key, never held in memory.
CREATE TABLE routing.customers (
  account_no    text PRIMARY KEY,
  district_code text NOT NULL REFERENCES routing.districts (code) DEFERRABLE INITIALLY DEFERRED,
  classes       text[] NOT NULL DEFAULT '{}',
  name          text,
  phone         text,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_district_idx ON routing.customers (district_code);

CREATE TABLE routing.staff (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  phone         text,
  wecom_user_id text,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- 一格三员 plus repair crews and the station head: a staff member's role in a grid.
CREATE TABLE routing.grid_staff (
  grid_id  text NOT NULL REFERENCES routing.grids (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  staff_id text NOT NULL REFERENCES routing.staff (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  role     text NOT NULL CHECK (role IN ('manager', 'assistant', 'supervisor', 'repair_crew', 'station_head')),
  PRIMARY KEY (grid_id, staff_id, role)
);
CREATE INDEX grid_staff_staff_idx ON routing.grid_staff (staff_id);

-- Duty rosters: weekly shifts in local wall-clock time of GD_TIME_ZONE (packages/grid RosterEntry).
-- A shift starts on each ISO weekday in `days` (1 = Monday) at start_time; end_time <= start_time
-- ends the next day (crosses midnight). valid_from/valid_to bound the days a shift starts on.
-- A staff member with no roster row is treated as always on duty (rosters not managed).
CREATE TABLE routing.rosters (
  id         bigserial PRIMARY KEY,
  staff_id   text NOT NULL REFERENCES routing.staff (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  days       smallint[] NOT NULL,
  start_time text NOT NULL CHECK (start_time ~ '^\d{1,2}:\d{2}$'),
  end_time   text NOT NULL CHECK (end_time ~ '^\d{1,2}:\d{2}$'),
  valid_from date,
  valid_to   date
);
CREATE INDEX rosters_staff_idx ON routing.rosters (staff_id);

-- Trouble-call grouping: fault calls from one 台区 close together in time share an incident.
CREATE TABLE routing.incidents (
  id            text PRIMARY KEY,
  district_code text NOT NULL,
  grid_id       text NOT NULL,
  opened_at     timestamptz NOT NULL,
  last_call_at  timestamptz NOT NULL,
  call_count    integer NOT NULL DEFAULT 1,
  urgency       text NOT NULL CHECK (urgency IN ('normal', 'urgent', 'critical'))
);
CREATE INDEX incidents_district_idx ON routing.incidents (district_code, last_call_at DESC);

-- One row per request this service decided on: idempotency by request id (a re-published request
-- with a new event id changes nothing) and the stored request for re-routing unroutable ones.
CREATE TABLE routing.routed_requests (
  request_id  text PRIMARY KEY,
  event_id    text NOT NULL,
  status      text NOT NULL CHECK (status IN ('assigned', 'unroutable')),
  grid_id     text,
  incident_id text REFERENCES routing.incidents (id),
  resolved_by text,
  reason      text,
  request     jsonb NOT NULL,
  routed_at   timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX routed_requests_unroutable_idx ON routing.routed_requests (routed_at) WHERE status = 'unroutable';
CREATE INDEX routed_requests_incident_idx ON routing.routed_requests (incident_id) WHERE incident_id IS NOT NULL;

-- Reference-data version: bumped by every import; a running router reloads its in-memory index
-- when it sees a newer version (NOTIFY routing_data_version, and checked per request).
CREATE TABLE routing.data_version (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version    bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO routing.data_version (singleton, version) VALUES (true, 0);
