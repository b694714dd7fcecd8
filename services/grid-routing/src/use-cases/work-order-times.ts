import type { PoolClient } from 'pg';
import type { CloudEvent, WorkOrderUpdatedV1 } from '@griddispatch/contracts';

// routing.work_order_times: what the response report reads (docs/architecture.md#reports), per
// work order grid-routing dispatched with a clock of its own — an incident's primary or a request
// in no incident (a new connection, a complaint…), not a merged call (its incident's primary is
// timed) — its category, receipt and the arrive deadline of the plan grid-routing computed when
// it dispatched it (written with the decision), then its first acknowledge, arrival and resolve
// as the crew's own times (`at`: field apps sync late), written by the work-order consumer in its
// transaction. Keyed by work-order id, first times only: a redelivered or repeated event changes
// nothing.

export interface TimedDispatch {
  workOrderId: string;
  incidentId: string | null;
  gridId: string;
  category: string;
  receivedAt: Date;
  arriveDeadline: Date | null;
}

/** The dispatches of timed work orders, one statement; a decision made again (a redelivery) changes nothing. */
export async function recordDispatches(client: PoolClient, rows: readonly TimedDispatch[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO routing.work_order_times (work_order_id, incident_id, grid_id, category, received_at, arrive_deadline)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
     ON CONFLICT (work_order_id) DO NOTHING`,
    [
      rows.map((r) => r.workOrderId),
      rows.map((r) => r.incidentId),
      rows.map((r) => r.gridId),
      rows.map((r) => r.category),
      rows.map((r) => r.receivedAt),
      rows.map((r) => r.arriveDeadline),
    ],
  );
}

/** The timed dispatch of an assignment: not a merged call (no clock of its own); an arrive deadline or none. */
export function timedDispatch(event: CloudEvent<'cn.griddispatch.dispatch.assigned.v1'>): TimedDispatch | null {
  const d = event.data;
  if (d.role === 'merged') return null;
  const arrive = d.sla.deadlines.arrive;
  return {
    workOrderId: d.workOrderId,
    incidentId: d.incidentId,
    gridId: d.grid.id,
    category: d.request.category,
    receivedAt: new Date(d.request.receivedAt),
    arriveDeadline: arrive ? new Date(arrive) : null,
  };
}

export type CrewTime = Pick<WorkOrderUpdatedV1, 'workOrderId' | 'type' | 'at'>;

const COLUMN: Partial<Record<WorkOrderUpdatedV1['type'], 'acknowledged_at' | 'arrived_at' | 'resolved_at'>> = {
  acknowledged: 'acknowledged_at',
  arrived: 'arrived_at',
  resolved: 'resolved_at',
};

/** The batch's crew times, one statement: each column keeps the earliest time it has heard (least() skips nulls). */
export async function recordCrewTimes(client: PoolClient, events: readonly CrewTime[]): Promise<void> {
  const rows = events.flatMap((e) => {
    const column = COLUMN[e.type];
    return column ? [{ wo: e.workOrderId, column, at: e.at }] : [];
  });
  if (rows.length === 0) return;
  await client.query(
    `UPDATE routing.work_order_times w SET
       acknowledged_at = least(w.acknowledged_at, u.ack), arrived_at = least(w.arrived_at, u.arr), resolved_at = least(w.resolved_at, u.res), updated_at = now()
       FROM (SELECT wo, min(at) FILTER (WHERE c = 'acknowledged_at') AS ack, min(at) FILTER (WHERE c = 'arrived_at') AS arr,
                    min(at) FILTER (WHERE c = 'resolved_at') AS res
               FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS t(wo, c, at) GROUP BY wo) u
      WHERE w.work_order_id = u.wo
        AND (w.acknowledged_at IS DISTINCT FROM least(w.acknowledged_at, u.ack) OR w.arrived_at IS DISTINCT FROM least(w.arrived_at, u.arr)
             OR w.resolved_at IS DISTINCT FROM least(w.resolved_at, u.res))`,
    [rows.map((r) => r.wo), rows.map((r) => r.column), rows.map((r) => r.at)],
  );
}
