-- The dispatch board (/board): SLA warnings per stage, so a warned stage that is not yet done
-- shows amber; and the open work orders it lists.
ALTER TABLE requests ADD COLUMN warnings jsonb NOT NULL DEFAULT '[]'::jsonb;  -- [{stage, deadline}]

CREATE INDEX requests_open_idx ON requests (received_at DESC, id DESC)
  WHERE status IN ('received', 'assigned', 'unroutable', 'acknowledged', 'en_route', 'arrived', 'suspended');
