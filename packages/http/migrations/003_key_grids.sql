-- The grids a key may see (issue 17.2): its reads, streams and subscriptions are limited to
-- them and to the grids under them. NULL: every grid (every key made before this migration).
ALTER TABLE auth.api_keys ADD COLUMN grids text[];
