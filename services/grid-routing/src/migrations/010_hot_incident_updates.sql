-- A call that joins an incident rewrites the incident's row (call_count, last_call_at, updated_at):
-- in a storm hundreds of times a second on a few hundred rows, each rewrite inserting an entry into
-- every index while the dead versions piled up (100,000 versions and ~1.3 M index entries for 356
-- incidents in the storm benchmark, the routing batch's reads slowing down as they grew). No index
-- now covers those columns, so the rewrite is a HOT update: no index entry, the dead version pruned
-- within its page. The call-count teller finds its incidents among the open ones (only an open
-- incident takes calls, and the event that restores or closes one tells its count).

DROP INDEX routing.incidents_calls_untold_idx;
DROP INDEX routing.incidents_district_idx;
CREATE INDEX incidents_district_idx ON routing.incidents (district_code);
