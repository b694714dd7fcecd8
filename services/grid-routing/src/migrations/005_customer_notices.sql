-- Telling the customers (主动服务), docs/architecture.md#telling-the-customers.

-- One row per 台区 and outage episode: the incident whose notice first told the 台区's customers
-- of the outage (episode_id: the key notification stores each stage under), the ETR they were
-- last told, and when they were told the power is back. A 台区 has at most one open episode, so a
-- feeder incident and its children never tell one customer the same stage twice.
CREATE TABLE routing.customer_episodes (
  district_code text NOT NULL,
  episode_id    text NOT NULL,
  told_etr      timestamptz,
  opened_at     timestamptz NOT NULL,
  restored_at   timestamptz,
  PRIMARY KEY (district_code, episode_id)
);
CREATE UNIQUE INDEX customer_episodes_open_idx ON routing.customer_episodes (district_code) WHERE restored_at IS NULL;
CREATE INDEX customer_episodes_restored_idx ON routing.customer_episodes (restored_at) WHERE restored_at IS NOT NULL;

-- What a planned outage's customers were last told: its window, and a version that names each
-- change's stages (`changed:v2`, `reminder:v2`) so a window moved back is still told again.
CREATE TABLE routing.planned_outage_notices (
  outage_id    text PRIMARY KEY,
  told_start   timestamptz NOT NULL,
  told_end     timestamptz NOT NULL,
  version      integer NOT NULL DEFAULT 1,
  cancelled_at timestamptz
);

-- The recipients of a 台区's notices: accounts with a mobile number.
CREATE INDEX customers_district_phone_idx ON routing.customers (district_code) WHERE phone IS NOT NULL AND phone <> '';
