-- Issue 17: what an integrator's key may see and how much of the sender it may hold.

-- Whether the key that registered the subscription had `pii:read` (then events go unredacted),
-- and since when its deliveries have failed without a success (it is disabled after
-- NOTIFY_WEBHOOK_DISABLE_AFTER of that).
ALTER TABLE subscriptions ADD COLUMN pii_read boolean NOT NULL DEFAULT false;
ALTER TABLE subscriptions ADD COLUMN failing_since timestamptz;
-- The cap on subscriptions per key counts by created_by.
CREATE INDEX subscriptions_by_key ON subscriptions (created_by);

-- The HMAC key that turns account numbers into stable pseudonyms when NOTIFY_PII_HASH_KEY is unset:
-- random, made once per database, so every replica and every restart hashes alike.
CREATE TABLE settings (
  name text PRIMARY KEY,
  value text NOT NULL
);
INSERT INTO settings (name, value) VALUES ('pii_hash_key', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));

-- Staff messages and webhooks are claimed by separate lanes of the delivery worker; each lane's
-- claim reads its own index, so a backlog of webhooks to a stalled receiver is never scanned
-- by the claim that looks for the next crew SMS.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due_webhook ON deliveries (next_attempt_at) WHERE status = 'pending' AND channel = 'webhook';
CREATE INDEX deliveries_due_staff ON deliveries (next_attempt_at) WHERE status = 'pending' AND channel <> 'webhook';
