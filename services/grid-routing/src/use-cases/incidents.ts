import type { PoolClient } from 'pg';
import type { Incident, IncidentOrigin, Urgency } from '@griddispatch/contracts';
import { enqueueOutbox, type OutboxRecord } from '@griddispatch/db';
import { SCHEMA } from '../schema.ts';
import { IncidentBook } from './incident-book.ts';
import { INCIDENT_COLUMNS, OPEN_SQL, toIncident, type IncidentRow } from './incident-row.ts';
import type { RoutingContext } from './routing-context.ts';

// The incident store's seam (docs/architecture.md#incidents): what other use
// cases of grid-routing — meters, planned outages, the work-order consumer — call to open, find
// and restore incidents. Each call runs in the caller's transaction, takes the feeder lock,
// writes the incident and its incidents.events records through the outbox.

export { toIncident, type IncidentRow } from './incident-row.ts';
export { IncidentBook } from './incident-book.ts';
export { lockKey } from './incident-store.ts';
export { inStormMode } from './set-storm.ts';
export type { PlannedOutageLookup, PlannedWindow } from './routing-context.ts';

/** Whether an incident's meters still report power off (filled by the meters use case). */
export type MetersStillOff = (client: PoolClient, incidentId: string) => Promise<boolean>;
export const noMetersOff: MetersStillOff = async () => false;

export interface OpenIncidentInput {
  districtCode: string;
  gridId: string;
  origin: IncidentOrigin;
  at: Date;
  urgency?: Urgency;
  plannedOutageId?: string;
  /** A planned outage's end: the ETR, `etrSource: planned`. */
  etr?: Date;
  /** Where the policy's restore window starts counting when not at `at` (a follow-up: its reopening). */
  etrFrom?: Date;
}

async function write(client: PoolClient, book: IncidentBook): Promise<void> {
  const outbox: OutboxRecord[] = [];
  await book.flush(client, outbox);
  await enqueueOutbox(client, SCHEMA, outbox);
}

/**
 * Opens an incident of the 台区 with no primary (a meter-detected or planned outage): it takes the
 * feeder lock, nests (rule 4) and emits incident.opened. Should the 台区 already have an open
 * incident, that one is returned unchanged (a 台区 is never in two open incidents).
 */
export async function openIncident(ctx: RoutingContext, client: PoolClient, input: OpenIncidentInput): Promise<Incident> {
  const book = new IncidentBook(ctx, await ctx.data.current(client));
  await book.loadForDistricts(client, [input.districtCode]);
  const existing = book.openIn(input.districtCode);
  if (existing) return book.incident(existing.id)!;
  const row = book.open({ ...input, primaryRequestId: null });
  await write(client, book);
  return book.incident(row.id)!;
}

/** The 台区's open district incident, if any. */
export async function findOpenIncident(client: PoolClient, districtCode: string): Promise<Incident | null> {
  const { rows } = await client.query<IncidentRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM routing.incidents WHERE district_code = $1 AND kind = 'district' AND ${OPEN_SQL}`,
    [districtCode],
  );
  return rows[0] ? toIncident(rows[0], []) : null;
}

/** One incident by id, with its children. */
export async function getIncident(client: Pick<PoolClient, 'query'>, id: string): Promise<Incident | null> {
  const { rows } = await client.query<IncidentRow & { child_ids: string[] }>(
    `SELECT ${INCIDENT_COLUMNS}, ARRAY(SELECT c.id FROM routing.incidents c WHERE c.parent_id = i.id ORDER BY c.id) AS child_ids
       FROM routing.incidents i WHERE id = $1`,
    [id],
  );
  return rows[0] ? toIncident(rows[0], rows[0].child_ids) : null;
}

/**
 * Restores an open incident (crew resolved, or its meters all back on): a feeder parent restores
 * its open children, the last child restored restores its parent. incident.restored for each.
 * Unknown → null; already restored or closed → returned unchanged.
 */
export async function restoreIncident(
  ctx: RoutingContext,
  client: PoolClient,
  id: string,
  input: { at: Date; by: 'crew' | 'meters'; unconfirmed: boolean },
): Promise<Incident | null> {
  const book = new IncidentBook(ctx, await ctx.data.current(client));
  await book.loadById(client, [id]);
  const row = book.get(id);
  if (!row) return null;
  book.restore(row, input.at, input.by, input.unconfirmed);
  await write(client, book);
  return book.incident(id)!;
}

/** Every affected meter is back on after the crew's resolve: `restorationUnconfirmed` → false, incident.updated. */
export async function markRestorationConfirmed(ctx: RoutingContext, client: PoolClient, id: string, at: Date): Promise<void> {
  const book = new IncidentBook(ctx, await ctx.data.current(client));
  await book.loadById(client, [id]);
  const row = book.get(id);
  if (!row) return;
  book.confirmRestoration(row, at);
  await write(client, book);
}
