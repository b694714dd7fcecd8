-- Staff hear of a trouble-call incident once, not once per caller: the first call's dispatch, the
-- incident passing 10, 100 and 1000 calls, and each (stage, escalation level) of its warnings and
-- breaches. A row here is the claim "told"; it commits with the event's inbox row.
ALTER TABLE work_order_contacts ADD COLUMN incident_id text;

CREATE TABLE incident_notices (
  incident_id text NOT NULL,
  notice text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (incident_id, notice)
);
CREATE INDEX incident_notices_created_at ON incident_notices (created_at);
