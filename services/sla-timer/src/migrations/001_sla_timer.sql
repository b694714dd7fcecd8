-- sla-timer owns schema `sla_timer` (runs with search_path = sla_timer). outbox/inbox come from migrate().

-- One row per work order: its SLA plan as dispatched, and the facts that decide which clocks run.
-- A workorders.events record may overtake its dispatch.assigned (different topics and keys), so a
-- row can exist before its plan (plan columns null) carrying what already happened.
CREATE TABLE work_orders (
  work_order_id  text PRIMARY KEY,
  grid_id        text,
  policy         text,
  -- Policy calendar name when the plan counts working time; resolved from GD_SLA_POLICY.
  calendar       text,
  -- The escalation ladder: [{level, afterMs, notify}], level 1 is the breach itself.
  escalation     jsonb,
  warn_before_ms bigint,
  deadlines      jsonb,
  traceparent    text,
  planned_at     timestamptz,
  -- 'stopped' after cancelled/closed: nothing is scheduled any more.
  status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'stopped')),
  -- Stages already satisfied by their work-order event.
  satisfied      text[] NOT NULL DEFAULT '{}',
  -- Set while suspended: every running clock is paused.
  paused_at      timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Durable timers. A warning (level 0) fires warnBefore ahead of the stage deadline, the breach
-- (level 1) at it, each escalation step (level 2..n) is inserted when the previous level fires.
-- (work_order_id, stage, kind, level) is unique, so scheduling the same plan twice — a redelivered
-- event, two replicas — adds nothing.
CREATE TABLE timers (
  id                    bigserial PRIMARY KEY,
  work_order_id         text NOT NULL REFERENCES work_orders (work_order_id),
  stage                 text NOT NULL CHECK (stage IN ('ack', 'arrive', 'resolve', 'callback')),
  kind                  text NOT NULL CHECK (kind IN ('warning', 'breach', 'escalation')),
  level                 smallint NOT NULL CHECK (level >= 0),
  -- When it fires; null while paused.
  due_at                timestamptz,
  -- The stage deadline it belongs to (moved on resume while still ahead).
  deadline              timestamptz NOT NULL,
  state                 text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'fired', 'cancelled', 'paused')),
  -- While paused: time left until due_at and until the deadline (working time under a calendar).
  remaining_ms          bigint,
  deadline_remaining_ms bigint,
  grid_id               text NOT NULL,
  policy                text NOT NULL,
  notify                text[] NOT NULL DEFAULT '{}',
  fired_at              timestamptz,
  late                  boolean,
  created_at            timestamptz NOT NULL DEFAULT now(),
  UNIQUE (work_order_id, stage, kind, level),
  CHECK (state = 'paused' OR due_at IS NOT NULL),
  CHECK (state <> 'paused' OR remaining_ms IS NOT NULL)
);

-- The scheduler's claim: pending timers in due order (small: fired and cancelled rows are left out).
CREATE INDEX timers_pending_due ON timers (due_at) WHERE state = 'pending';
