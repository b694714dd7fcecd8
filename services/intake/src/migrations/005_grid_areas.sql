-- The area grid of each grid intake has seen dispatched to (from dispatch.assigned): a key whose
-- allowed grids name an area grid sees the requests, work orders and incidents of the grids under
-- it (issue 17.2). A grid never dispatched to yet has no row, and none of its work orders either.
CREATE TABLE grid_areas (
  grid_id  text PRIMARY KEY,
  area_id  text NOT NULL
);
CREATE INDEX grid_areas_area ON grid_areas (area_id);
