-- API keys of calling systems (95598, 12345 platforms, field app, operators). Only a SHA-256
-- hash of the secret is stored: secrets are 256-bit random values, so a fast hash is enough
-- (no dictionary to attack) and lets a lookup use the index.
CREATE TABLE auth.api_keys (
  name        text PRIMARY KEY,
  key_hash    text NOT NULL UNIQUE,
  scopes      text[] NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
