-- Replies by SMS (docs/architecture.md#callbacks-and-replies).

-- Acknowledge by reply: each staff SMS of a dispatch carries a short code bound to the work order
-- and the addressee's phone; `1 <code>` from that phone acknowledges the work order. A code is live
-- until it is used, the work order leaves `assigned` (workorders.events) or it expires
-- (NOTIFY_ACK_CODE_TTL); live codes are unique, a used or expired one may be issued again later.
CREATE TABLE ack_codes (
  work_order_id text NOT NULL,
  phone         text NOT NULL,             -- personal data: never logged
  staff_id      text NOT NULL,
  code          text NOT NULL,
  status        text NOT NULL DEFAULT 'live' CHECK (status IN ('live', 'used', 'expired')),
  issued_at     timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  closed_at     timestamptz,
  PRIMARY KEY (work_order_id, phone)
);
CREATE UNIQUE INDEX ack_codes_live_idx ON ack_codes (code) WHERE status = 'live';
CREATE INDEX ack_codes_code_idx ON ack_codes (code, issued_at DESC);
CREATE INDEX ack_codes_issued_idx ON ack_codes (issued_at);
-- Live codes past their time are expired before a new one is drawn: this finds them without a scan.
CREATE INDEX ack_codes_live_expiry_idx ON ack_codes (expires_at) WHERE status = 'live';

-- Callbacks (回访): the asks intake requested (callbacks.events) and this service texted, so a
-- caller's reply finds its request by the number it comes from.
CREATE TABLE callback_asks (
  request_id  text PRIMARY KEY,
  incident_id text NOT NULL,
  phone       text NOT NULL,               -- normalised (+86…); personal data
  asked_at    timestamptz NOT NULL
);
CREATE INDEX callback_asks_phone_idx ON callback_asks (phone, asked_at DESC);

-- Every SMS received (POST /v1/inbound/sms), keyed by a hash of (from, at, text): a gateway that
-- posts the same message again gets the first outcome back and nothing happens twice.
CREATE TABLE inbound_sms (
  id          text PRIMARY KEY,
  received_at timestamptz NOT NULL,
  outcome     jsonb NOT NULL
);
CREATE INDEX inbound_sms_received_idx ON inbound_sms (received_at);
