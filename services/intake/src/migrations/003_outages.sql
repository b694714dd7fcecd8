-- Outages (docs/architecture.md, DESIGN §10).

-- POST /v1/meter-events: the idempotency record of every meter event accepted, (source, event_id).
-- The event itself travels on meters.events (its outbox row is written in the same transaction);
-- this table only answers "seen before?", so retention may drop rows once no retry can come
-- (events older than 7 days are refused anyway).
CREATE TABLE meter_events (
  source         text NOT NULL,
  event_id       text NOT NULL,
  kind           text NOT NULL,            -- power_off | power_on
  meter_id       text NOT NULL,
  district_code  text,
  at             timestamptz NOT NULL,
  received_at    timestamptz NOT NULL,
  received_by    text NOT NULL,            -- API key name
  PRIMARY KEY (source, event_id)
);
CREATE INDEX meter_events_received_idx ON meter_events (received_at);

-- The latest snapshot of each incident heard on incidents.events (grid-routing owns incidents;
-- this is intake's copy for the read model and the board). An event replaces the row only when
-- it is newer: (updated_at, status_rank, call_count) orders snapshots, so a redelivered or
-- overtaken event changes nothing.
CREATE TABLE incidents (
  id            text PRIMARY KEY,
  status        text NOT NULL,
  status_rank   smallint NOT NULL,
  grid_id       text NOT NULL,
  feeder_code   text,
  parent_id     text,
  call_count    integer NOT NULL,
  opened_at     timestamptz NOT NULL,
  etr           timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  data          jsonb NOT NULL            -- the whole Incident as last heard
);
CREATE INDEX incidents_open_idx ON incidents (opened_at DESC, id) WHERE status IN ('open', 'dispatched', 'en_route', 'arrived');
CREATE INDEX incidents_updated_idx ON incidents (updated_at);

-- dispatch.assigned's role in the incident (primary | merged) and the ETR it carried; `etr` is
-- what GET /v1/requests shows: the incident's current ETR once intake heard of the incident.
ALTER TABLE requests ADD COLUMN incident_role text;
ALTER TABLE requests ADD COLUMN etr timestamptz;
CREATE INDEX requests_incident_idx ON requests (incident_id) WHERE incident_id IS NOT NULL;
