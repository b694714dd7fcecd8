import type { PoolClient } from 'pg';
import type { WorkOrderUpdatedV1 } from '@griddispatch/contracts';
import { enqueueOutbox, type OutboxRecord } from '@griddispatch/db';
import { SCHEMA } from '../schema.ts';
import { IncidentBook } from './incident-book.ts';
import type { MetersStillOff } from './incidents.ts';
import type { RoutingContext } from './routing-context.ts';
import { recordCrewTimes, type CrewTime } from './work-order-times.ts';

// Rule 3 of docs/architecture.md#incidents: an incident follows its primary work order. Merged work orders
// follow their incident in intake; they never reach workorders.events.

export type FollowOutcome = { effect: 'none'; reason: 'not a primary' | 'no change' } | { effect: 'status'; incidentId: string; status: string };

export interface WorkOrderBatch {
  book: IncidentBook;
  /** Incident id by the work order that is its primary, for the batch's work orders. */
  incidentOf: Map<string, string>;
  metersStillOff: MetersStillOff;
  /** The crew's times of the batch's work orders (work_order_times, for the response report). */
  crewTimes: CrewTime[];
}

/** Finds the incidents whose primaries the batch's events are about, locks their feeders (sorted) and reads them with their families. */
export async function prepareWorkOrders(
  ctx: RoutingContext,
  client: PoolClient,
  events: WorkOrderUpdatedV1[],
  metersStillOff: MetersStillOff,
): Promise<WorkOrderBatch> {
  const book = new IncidentBook(ctx, await ctx.data.current(client));
  const { rows } = await client.query<{ id: string; primary_request_id: string }>(
    'SELECT id, primary_request_id FROM routing.incidents WHERE primary_request_id = ANY($1::text[])',
    [[...new Set(events.map((e) => e.workOrderId))]],
  );
  if (rows.length > 0)
    await book.loadById(
      client,
      rows.map((r) => r.id),
    );
  return { book, incidentOf: new Map(rows.map((r) => [r.primary_request_id, r.id])), metersStillOff, crewTimes: [] };
}

/**
 * assigned/acknowledged → dispatched, en_route, arrived, resolved → restored (unconfirmed while its
 * meters still report off; a feeder parent restores its children, the last child its parent),
 * closed → closed. Forward only: a redelivered or late event changes nothing. A cancelled primary
 * leaves its incident open without one (intake opens the incident's own work order, rule 2);
 * suspended, resumed and reassigned leave the incident as it is.
 */
export async function followWorkOrder(client: PoolClient, batch: WorkOrderBatch, data: WorkOrderUpdatedV1): Promise<FollowOutcome> {
  // Every work order's crew times (a timed one has a work_order_times row; others match none).
  batch.crewTimes.push({ workOrderId: data.workOrderId, type: data.type, at: data.at });
  const id = batch.incidentOf.get(data.workOrderId);
  const row = id ? batch.book.get(id) : undefined;
  if (!row) return { effect: 'none', reason: 'not a primary' };
  const before = `${row.status}/${String(row.restoration_unconfirmed)}`;
  const at = new Date(data.at);
  switch (data.type) {
    case 'acknowledged':
      batch.book.advance(row, 'dispatched');
      break;
    case 'en_route':
    case 'arrived':
      batch.book.advance(row, data.type);
      break;
    case 'resolved':
      if (row.status !== 'restored' && row.status !== 'closed') batch.book.restore(row, at, 'crew', await batch.metersStillOff(client, row.id));
      break;
    case 'closed':
      batch.book.close(row, at);
      break;
    case 'cancelled':
      if (batch.book.dropPrimary(row, data.workOrderId)) return { effect: 'status', incidentId: row.id, status: row.status };
      break;
    default:
      break;
  }
  if (`${row.status}/${String(row.restoration_unconfirmed)}` === before) return { effect: 'none', reason: 'no change' };
  return { effect: 'status', incidentId: row.id, status: row.status };
}

/** The batch's incidents in one statement, their incidents.events through the outbox. */
export async function finishWorkOrders(client: PoolClient, batch: WorkOrderBatch): Promise<void> {
  const outbox: OutboxRecord[] = [];
  await batch.book.flush(client, outbox);
  await enqueueOutbox(client, SCHEMA, outbox);
  await recordCrewTimes(client, batch.crewTimes);
}
