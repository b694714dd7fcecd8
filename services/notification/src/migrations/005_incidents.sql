-- Outages (docs/architecture.md#incidents). Staff hear of an incident once: its primary's
-- dispatch, or — for a feeder incident — the notice of its opening; a merged call tells no staff.
-- incident_notices now holds 'dispatch' (claimed by whichever of those two comes first) and each
-- (stage, level) of the incident's warnings and breaches; the size milestones ('dispatch:10', …)
-- are gone (rows of them may remain until retention).

-- The people of a grid as its last primary dispatch named them (grid, area, station: the
-- contacts grid-routing sends), so an incident event — which carries a grid id, not people — can
-- reach the grid's repair crew and station head, and a subscription filtered on the area grid
-- hears of the grid's incidents. One row per grid, written on primary dispatches only.
CREATE TABLE grid_contacts (
  grid_id text PRIMARY KEY,
  grid_name text NOT NULL,
  area_id text,
  contacts jsonb NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX grid_contacts_area ON grid_contacts (area_id) WHERE area_id IS NOT NULL;
