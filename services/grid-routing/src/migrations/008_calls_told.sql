-- An incident's call count is told on incidents.events at most every GD_INCIDENT_COUNTS_INTERVAL
-- (docs/architecture.md#incidents, rule 8), not after every routing batch: during a storm that was
-- one event per call for the read model, notification and every subscriber. calls_told is the count
-- the last told event carried; the partial index finds the incidents whose count moved since.

ALTER TABLE routing.incidents ADD COLUMN calls_told integer NOT NULL DEFAULT 0;
UPDATE routing.incidents SET calls_told = call_count;
CREATE INDEX incidents_calls_untold_idx ON routing.incidents (updated_at) WHERE calls_told <> call_count;
