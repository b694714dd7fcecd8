-- Telling the customers (主动服务), docs/architecture.md#telling-the-customers. A customer message
-- is a delivery row with its notice: the subject (incident, or planned outage), the stage and the
-- account. The unique index is what makes "one message per stage per account" hold across
-- redeliveries, restarts and replicas; `priority` orders the customer lane (0: aquaculture, cold
-- storage … 3: residents) and keeps those rows out of the staff lane.
ALTER TABLE deliveries
  ADD COLUMN notice_subject text,
  ADD COLUMN notice_stage text,
  ADD COLUMN notice_kind text,
  ADD COLUMN account_no text,
  ADD COLUMN priority smallint;

CREATE UNIQUE INDEX deliveries_customer_once ON deliveries (notice_subject, notice_stage, account_no) WHERE notice_subject IS NOT NULL;

-- The lanes' claims: staff messages no longer see customer rows; the customer lane takes the
-- most urgent due rows first.
DROP INDEX deliveries_due_staff;
CREATE INDEX deliveries_due_staff ON deliveries (next_attempt_at) WHERE status = 'pending' AND channel <> 'webhook' AND priority IS NULL;
CREATE INDEX deliveries_due_customer ON deliveries (priority, next_attempt_at) WHERE status = 'pending' AND priority IS NOT NULL;

-- Progress per message kind at every /metrics scrape, and GET /v1/deliveries?kind=…
CREATE INDEX deliveries_customer_progress ON deliveries (notice_kind, status) WHERE notice_kind IS NOT NULL;
CREATE INDEX deliveries_by_notice_kind ON deliveries (notice_kind, created_at DESC, id DESC) WHERE notice_kind IS NOT NULL;
