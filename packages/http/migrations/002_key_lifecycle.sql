-- Key lifecycle (issue 17): secrets are stored as HMAC-SHA256 under a server-side pepper, so the
-- SHA-256 hashes of 001 no longer match anything: those rows are revoked and GD_API_KEYS (which
-- the host applies right after migrating) writes them again under the new scheme.
UPDATE auth.api_keys SET revoked_at = coalesce(revoked_at, now()), key_hash = 'sha256:' || key_hash;

-- `env`: listed in GD_API_KEYS (the whole list: a name that leaves it is revoked at start);
-- `cli`: made by `griddispatch keys create`, lives until `griddispatch keys revoke`.
ALTER TABLE auth.api_keys
  ADD COLUMN origin text NOT NULL DEFAULT 'env' CHECK (origin IN ('env', 'cli')),
  -- Why it was revoked: `removed` (left GD_API_KEYS; listing it again restores it) or `cli`
  -- (revoked by an operator: never restored by a restart while the secret stays the same).
  ADD COLUMN revoked_by text CHECK (revoked_by IN ('removed', 'cli')),
  -- The `source` values the key may post (NULL: any), and its own requests per window (NULL: the default).
  ADD COLUMN sources text[],
  ADD COLUMN rate_limit integer CHECK (rate_limit > 0);
UPDATE auth.api_keys SET revoked_by = 'removed' WHERE revoked_by IS NULL AND revoked_at IS NOT NULL;
-- Unique among active keys only: a secret may move to a new name (the old row is revoked).
ALTER TABLE auth.api_keys DROP CONSTRAINT api_keys_key_hash_key;
CREATE UNIQUE INDEX api_keys_active_hash ON auth.api_keys (key_hash) WHERE revoked_at IS NULL;

-- The generated pepper (only when GD_KEY_PEPPER is not set) and a fingerprint of the pepper in
-- use, so a process started with another pepper refuses instead of locking every key out.
CREATE TABLE auth.settings (
  name   text PRIMARY KEY,
  value  text NOT NULL
);

-- Per-key request counts shared by the replicas (see rate-limit.ts): one row per key, fixed
-- window and replica, added to once a second by each replica.
CREATE TABLE auth.rate_usage (
  key_name      text NOT NULL,
  window_start  bigint NOT NULL,
  replica       text NOT NULL,
  count         integer NOT NULL,
  PRIMARY KEY (key_name, window_start, replica)
);
CREATE TABLE auth.rate_replicas (
  replica  text PRIMARY KEY,
  seen_at  timestamptz NOT NULL
);
