-- Meters (主动抢修) and planned outages (计划停电), docs/architecture.md#incidents rules 6 and 7.

-- One customer meter per account and one transformer meter (台区总表) per 台区, derived from the
-- imported accounts and 台区 (packages/grid meters.ts: `M-<accountNo>`, `TM-<districtCode>`);
-- written by every import and the sample load. `state`/`state_at`: the last power event heard
-- (null: never heard), what the quorum and the restoration checks read.
CREATE TABLE routing.meters (
  meter_id      text PRIMARY KEY,
  account_no    text,
  district_code text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('customer', 'transformer')),
  state         text CHECK (state IN ('off', 'on')),
  state_at      timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meters_district_idx ON routing.meters (district_code);
CREATE INDEX meters_off_idx ON routing.meters (district_code, state_at) WHERE state = 'off';

-- Every meter event applied once, by the meter system's own key (source, event_id): a meter
-- head-end that resends an event under a new CloudEvent id changes nothing. `outcome` says what
-- it did (off, on, opened, evidence, restored, confirmed, below_quorum).
CREATE TABLE routing.meter_events (
  source      text NOT NULL,
  event_id    text NOT NULL,
  meter_id    text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('power_off', 'power_on')),
  at          timestamptz NOT NULL,
  outcome     text NOT NULL,
  incident_id text,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, event_id)
);
CREATE INDEX meter_events_recorded_idx ON routing.meter_events (recorded_at);

-- Meter events that changed nothing, each with the reason (unknown_meter, duplicate, future,
-- stale, no_outage, storm_single_customer): explained, never dead-lettered (counted in /metrics).
CREATE TABLE routing.meter_event_noops (
  id          bigserial PRIMARY KEY,
  source      text NOT NULL,
  event_id    text NOT NULL,
  meter_id    text NOT NULL,
  kind        text NOT NULL,
  at          timestamptz NOT NULL,
  reason      text NOT NULL,
  detail      text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meter_event_noops_recorded_idx ON routing.meter_event_noops (recorded_at);

-- Planned and temporary outages. external_id is the caller's idempotency key; `body` is the
-- request as posted (same key with another body: 409). The outage's incident (one per 台区,
-- origin planned) is opened lazily by the first call inside the window and carries its id.
CREATE TABLE routing.planned_outages (
  id            text PRIMARY KEY,
  external_id   text NOT NULL UNIQUE,
  kind          text NOT NULL CHECK (kind IN ('planned', 'temporary')),
  status        text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
  district_codes text[] NOT NULL,
  feeder_code   text,
  starts_at     timestamptz NOT NULL,
  ends_at       timestamptz NOT NULL CHECK (ends_at > starts_at),
  reason        text NOT NULL,
  body          jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX planned_outages_starts_idx ON routing.planned_outages (starts_at);

-- One row per 台区 of a scheduled outage: the overlap check and the call-time look-up.
CREATE TABLE routing.planned_outage_districts (
  outage_id     text NOT NULL REFERENCES routing.planned_outages (id) ON DELETE CASCADE,
  district_code text NOT NULL,
  starts_at     timestamptz NOT NULL,
  ends_at       timestamptz NOT NULL,
  PRIMARY KEY (outage_id, district_code)
);
CREATE INDEX planned_outage_districts_idx ON routing.planned_outage_districts (district_code, starts_at);
