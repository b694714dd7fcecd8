-- notification schema (runs with search_path = notification). outbox/inbox come from migrate().

-- Integrators' webhooks. The secret signs deliveries (Standard Webhooks) and is shown once.
CREATE TABLE subscriptions (
  id uuid PRIMARY KEY,
  url text NOT NULL,
  events text[] NOT NULL CHECK (cardinality(events) > 0),
  grid_ids text[],
  secret text NOT NULL,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  disabled_reason text,
  created_by text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX subscriptions_active_events ON subscriptions USING gin (events) WHERE status = 'active';

-- A copy of each work order's dispatch.assigned: the grid, its people by role and the grid's
-- WeCom robot, so warnings and escalations (which carry only ids) reach the right people.
CREATE TABLE work_order_contacts (
  work_order_id text PRIMARY KEY,
  grid_id text NOT NULL,
  grid_name text NOT NULL,
  area_id text,
  district_code text,
  category text NOT NULL,
  customer_classes text[] NOT NULL,
  assignees jsonb NOT NULL,
  contacts jsonb NOT NULL,
  wecom_robot_url text,
  source_event_id text NOT NULL,
  updated_at timestamptz NOT NULL
);

-- One row per (event, channel, recipient): the UNIQUE constraint is what guarantees nobody is
-- notified twice for one event through one channel, whatever the bus redelivers.
CREATE TABLE deliveries (
  id uuid PRIMARY KEY,
  event_id text NOT NULL,
  event_type text NOT NULL,
  work_order_id text,
  channel text NOT NULL CHECK (channel IN ('webhook', 'wecom', 'sms', 'log')),
  recipient text NOT NULL,
  subscription_id uuid,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  last_status_code integer,
  last_error text,
  latency_ms integer,
  next_attempt_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  delivered_at timestamptz,
  CONSTRAINT deliveries_once UNIQUE (event_id, channel, recipient)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_time ON deliveries (created_at DESC, id DESC);
CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, created_at DESC, id DESC) WHERE subscription_id IS NOT NULL;
CREATE INDEX deliveries_by_event ON deliveries (event_id);

-- Every send attempt: when, how long, what the receiver answered.
CREATE TABLE delivery_attempts (
  delivery_id uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  started_at timestamptz NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('delivered', 'retry', 'permanent', 'gone')),
  status_code integer,
  error text,
  latency_ms integer NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
);
