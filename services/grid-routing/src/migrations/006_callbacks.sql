-- Callbacks (回访, docs/architecture.md#callbacks-and-replies): a caller who answers `still_out`
-- after the restoration reopens the outage as a follow-up incident on that 台区, with the original
-- start time. `reopened_from` names the restored incident it continues; one follow-up per
-- (restored incident, 台区), however many callers answer `still_out`.
--
-- For the reports a follow-up continues its parent's interruption: its `evidence_at` is where the
-- parent's ended (interrupted_until), so the minutes of the two never overlap, and it counts no
-- second customer interruption (report-reliability.ts).
ALTER TABLE routing.incidents ADD COLUMN reopened_from text REFERENCES routing.incidents (id);
CREATE UNIQUE INDEX incidents_reopened_idx ON routing.incidents (reopened_from, district_code) WHERE reopened_from IS NOT NULL;
