-- Unqualified names resolve to the migrated schema (search_path is set per file).
CREATE TABLE items (
  id text PRIMARY KEY,
  applied_count integer NOT NULL DEFAULT 0
);
-- Not idempotent on purpose: a second run of this file would fail on CREATE TABLE and double this row.
CREATE TABLE migration_runs (file text NOT NULL);
INSERT INTO migration_runs (file) VALUES ('001_items.sql');
