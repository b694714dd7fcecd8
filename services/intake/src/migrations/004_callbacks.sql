-- Callbacks (回访, docs/architecture.md#callbacks-and-replies): when an incident is restored every
-- caller of it is asked to confirm. One row per request, written when the incident's restoration
-- is heard: the primary key is what makes the ask happen once, whatever incidents.events
-- redelivers. `phone` is null when the caller left no mobile number (then nobody is texted, but an
-- agent's answer by POST /v1/callbacks/:requestId is still taken).
CREATE TABLE callbacks (
  request_id    uuid PRIMARY KEY REFERENCES requests (id),
  incident_id   text NOT NULL,
  phone         text,                     -- personal data: never logged
  asked_at      timestamptz NOT NULL,
  -- The first answer of each kind is kept: a duplicate or late reply changes nothing.
  reply         text CHECK (reply IN ('restored', 'still_out')),
  satisfaction  smallint CHECK (satisfaction BETWEEN 1 AND 5),
  answered_at   timestamptz,
  answered_via  text CHECK (answered_via IN ('sms', 'api'))
);
CREATE INDEX callbacks_incident_idx ON callbacks (incident_id);
