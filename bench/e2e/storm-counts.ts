import pg from 'pg';
import type { BreachSeen, DispatchSeen, IncidentSeen } from './kafka.ts';

// The storm's tally at the end of a run, read where the figures live: incidents from grid-routing's
// table and from incidents.events, SLA timers from sla-timer's table, breaches from sla.breaches (the
// benchmark's own consumer), each tied to its incident through the call's dispatch.assigned. What
// it shows: merged calls of an incident carry no timers and never breach; the primary does, once
// per incident.

/** sla_timer.timers grouped by work order, kind and state. */
export interface TimerGroup {
  workOrderId: string;
  kind: string;
  state: string;
  n: number;
}

export interface StormDatabaseFigures {
  timers: TimerGroup[];
  /** routing.incidents: all rows and those of kind `feeder` (null when the table cannot be read). */
  incidents: { total: number; feeder: number } | null;
}

export interface PerIncident {
  /** Incidents with at least one. */
  incidents: number;
  p50: number | null;
  max: number | null;
  mean: number;
}

export interface StormCounts {
  /** Calls accepted (202) by intake. */
  calls: number;
  incidents: {
    /** Distinct incident ids on the calls' dispatch.assigned. */
    fromDispatches: number;
    /** Rows of routing.incidents (null: not readable). */
    inDatabase: number | null;
    feederInDatabase: number | null;
    /** Distinct incident ids on incidents.events, and how many of them had an `incident.opened`. */
    onTopic: number;
    openedOnTopic: number;
  };
  /** The calls' role in their incident, from dispatch.assigned (`none`: no role given). */
  roles: { primary: number; merged: number; none: number };
  timers: {
    created: number;
    byKind: Record<string, number>;
    fired: number;
    workOrdersWithTimers: number;
    /** Timers of work orders dispatched as `merged`: 0 when merged calls carry no clocks. */
    ofMergedWorkOrders: number;
    /** Timers of work orders in no incident. */
    withoutIncident: number;
    perIncident: PerIncident;
    /** The most work orders with timers in one incident (1: only the primary is timed). */
    maxTimedWorkOrdersPerIncident: number;
  };
  breaches: {
    /** Records on sla.breaches for this run's calls (redeliveries included). */
    emitted: number;
    /** Distinct (work order, stage, level). */
    distinct: number;
    /** Breach timers fired according to sla-timer's table (breach and escalation levels). */
    firedInDatabase: number;
    ofMergedWorkOrders: number;
    withoutIncident: number;
    perIncident: PerIncident;
  };
}

function perIncident(counts: Map<string, number>): PerIncident {
  const values = [...counts.values()].filter((n) => n > 0).sort((a, b) => a - b);
  const at = (p: number) => (values.length === 0 ? null : values[Math.min(values.length, Math.max(1, Math.ceil((p / 100) * values.length))) - 1]!);
  const total = values.reduce((a, b) => a + b, 0);
  return { incidents: values.length, p50: at(50), max: at(100), mean: values.length > 0 ? Math.round((total / values.length) * 10) / 10 : 0 };
}

const add = (m: Map<string, number>, key: string, n: number) => m.set(key, (m.get(key) ?? 0) + n);

/** Pure: the tally from what the watcher saw and the database held. `accepted`: the ids intake answered 202 for. */
export function countStorm(input: {
  accepted: ReadonlySet<string>;
  dispatches: ReadonlyMap<string, Pick<DispatchSeen, 'kind' | 'incidentId' | 'role'>>;
  breaches: ReadonlyMap<string, Pick<BreachSeen, 'count'>>;
  incidents: ReadonlyMap<string, Pick<IncidentSeen, 'opened'>>;
  database: StormDatabaseFigures;
}): StormCounts {
  const roles = { primary: 0, merged: 0, none: 0 };
  const incidentIds = new Set<string>();
  for (const id of input.accepted) {
    const d = input.dispatches.get(id);
    if (!d || d.kind !== 'assigned') continue;
    if (d.incidentId) incidentIds.add(d.incidentId);
    roles[d.role ?? 'none'] += 1;
  }

  const byKind: Record<string, number> = {};
  const timersByIncident = new Map<string, number>();
  const timedWorkOrders = new Map<string, Set<string>>();
  const workOrdersWithTimers = new Set<string>();
  let created = 0;
  let fired = 0;
  let firedBreaches = 0;
  let ofMerged = 0;
  let timersWithoutIncident = 0;
  for (const t of input.database.timers) {
    created += t.n;
    byKind[t.kind] = (byKind[t.kind] ?? 0) + t.n;
    if (t.state === 'fired') {
      fired += t.n;
      if (t.kind !== 'warning') firedBreaches += t.n;
    }
    workOrdersWithTimers.add(t.workOrderId);
    const d = input.dispatches.get(t.workOrderId);
    if (d?.role === 'merged') ofMerged += t.n;
    if (!d?.incidentId) {
      timersWithoutIncident += t.n;
      continue;
    }
    add(timersByIncident, d.incidentId, t.n);
    const set = timedWorkOrders.get(d.incidentId) ?? new Set<string>();
    set.add(t.workOrderId);
    timedWorkOrders.set(d.incidentId, set);
  }

  const breachesByIncident = new Map<string, number>();
  let emitted = 0;
  let distinct = 0;
  let breachesOfMerged = 0;
  let breachesWithoutIncident = 0;
  for (const [key, b] of input.breaches) {
    const workOrderId = key.slice(0, key.indexOf(':'));
    if (!input.accepted.has(workOrderId)) continue;
    emitted += b.count;
    distinct += 1;
    const d = input.dispatches.get(workOrderId);
    if (d?.role === 'merged') breachesOfMerged += b.count;
    if (d?.incidentId) add(breachesByIncident, d.incidentId, b.count);
    else breachesWithoutIncident += b.count;
  }

  return {
    calls: input.accepted.size,
    incidents: {
      fromDispatches: incidentIds.size,
      inDatabase: input.database.incidents?.total ?? null,
      feederInDatabase: input.database.incidents?.feeder ?? null,
      onTopic: input.incidents.size,
      openedOnTopic: [...input.incidents.values()].filter((i) => i.opened).length,
    },
    roles,
    timers: {
      created,
      byKind,
      fired,
      workOrdersWithTimers: workOrdersWithTimers.size,
      ofMergedWorkOrders: ofMerged,
      withoutIncident: timersWithoutIncident,
      perIncident: perIncident(timersByIncident),
      maxTimedWorkOrdersPerIncident: Math.max(0, ...[...timedWorkOrders.values()].map((s) => s.size)),
    },
    breaches: {
      emitted,
      distinct,
      firedInDatabase: firedBreaches,
      ofMergedWorkOrders: breachesOfMerged,
      withoutIncident: breachesWithoutIncident,
      perIncident: perIncident(breachesByIncident),
    },
  };
}

/** Reads sla-timer's timers and grid-routing's incidents from the run's database (each service's own schema, read-only). */
export async function readStormDatabase(databaseUrl: string): Promise<StormDatabaseFigures> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-storm-counts' });
  await client.connect();
  try {
    const timers = await client.query<{ work_order_id: string; kind: string; state: string; n: number }>(
      'SELECT work_order_id, kind, state, count(*)::int AS n FROM sla_timer.timers GROUP BY 1, 2, 3',
    );
    // `kind` arrives with the outage work (routing migration 002); read through to_jsonb so an older schema still counts.
    const incidents = await client
      .query<{ total: number; feeder: number }>(
        `SELECT count(*)::int AS total, (count(*) FILTER (WHERE to_jsonb(i) ->> 'kind' = 'feeder'))::int AS feeder FROM routing.incidents i`,
      )
      .then((r) => r.rows[0] ?? null)
      .catch(() => null);
    return { timers: timers.rows.map((r) => ({ workOrderId: r.work_order_id, kind: r.kind, state: r.state, n: r.n })), incidents };
  } finally {
    await client.end();
  }
}
