-- intake: accepted requests (= work orders) and the read model behind GET /v1/requests.
-- The request row is both the idempotency record (source, external_id, body_hash) and the
-- work-order state; consumers of dispatch.* / workorders.events / sla.* keep its read-model
-- columns up to date.
CREATE TABLE requests (
  id              uuid PRIMARY KEY,
  source          text NOT NULL,
  external_id     text NOT NULL,
  -- SHA-256 of the normalized body: a retry with the same body is a duplicate, another body a conflict.
  body_hash       text NOT NULL,
  channel         text NOT NULL,            -- api | 95598 | 12345 | open311
  received_by     text NOT NULL,            -- API key name of the calling system
  category        text NOT NULL,
  urgency         text NOT NULL,
  description     text,
  reported_at     timestamptz,
  received_at     timestamptz NOT NULL,
  customer        jsonb,                    -- personal data: never logged
  location        jsonb NOT NULL,
  status          text NOT NULL DEFAULT 'received',
  -- The status a suspended work order resumes to.
  resume_status   text,
  grid            jsonb,                    -- {id, name, kind}
  grid_id         text,
  incident_id     text,
  assignees       jsonb NOT NULL DEFAULT '[]'::jsonb,
  sla             jsonb,                    -- {policy, deadlines}
  breaches        jsonb NOT NULL DEFAULT '[]'::jsonb,
  breached        boolean NOT NULL DEFAULT false,
  updated_at      timestamptz NOT NULL,
  CONSTRAINT requests_source_external_id_key UNIQUE (source, external_id)
);

-- Keyset pagination: newest first, id breaks ties.
CREATE INDEX requests_received_idx ON requests (received_at DESC, id DESC);
CREATE INDEX requests_status_idx ON requests (status, received_at DESC, id DESC);
CREATE INDEX requests_grid_idx ON requests (grid_id, received_at DESC, id DESC);
CREATE INDEX requests_breached_idx ON requests (received_at DESC, id DESC) WHERE breached;

CREATE TABLE timeline (
  seq         bigserial PRIMARY KEY,
  request_id  uuid NOT NULL REFERENCES requests (id),
  at          timestamptz NOT NULL,
  type        text NOT NULL,
  by          text,
  note        text,
  -- The event this entry came from: a redelivered event adds nothing.
  event_id    text NOT NULL UNIQUE
);
CREATE INDEX timeline_request_idx ON timeline (request_id, at, seq);
