-- Outages (docs/architecture.md#incidents): a work order's role in its incident, from its
-- dispatch.assigned. `merged` (a later call of an incident) gets no plan and no timers: the
-- incident's primary work order carries its clocks. A merged work order is `stopped` at once —
-- nothing will ever be scheduled for it, its work-order events change nothing, and retention
-- removes it like a closed one. Null: a work order in no incident (or from an older producer).
ALTER TABLE work_orders ADD COLUMN role text CHECK (role IN ('primary', 'merged'));
