import type { PoolClient } from 'pg';
import { SCHEMA } from '../schema.ts';

// A typhoon brings hundreds of calls from one 台区 within minutes; grid-routing joins them into one
// incident and sends one crew (docs/architecture.md#incidents). Staff hear of the incident once:
// the primary's dispatch (a merged call's dispatch reaches integrators only), and each (stage,
// level) of its warnings and breaches once. A feeder incident's crew is told when it opens; its
// own work order's dispatch then finds the incident's `dispatch` notice taken and tells no one
// again. Integrators' webhooks still get every event.

/** The one dispatch notice of an incident: its primary's dispatch, or a feeder incident's opening. */
export const DISPATCH_NOTICE = 'dispatch';

/**
 * True the first time `notice` is claimed for the incident (and always for a work order in none).
 * The claim commits with the consumer's transaction; a concurrent claim of the same notice waits
 * for it and then finds it taken.
 */
export async function firstNotice(client: PoolClient, incidentId: string | null, notice: string, now: Date): Promise<boolean> {
  if (!incidentId) return true;
  const { rowCount } = await client.query(
    `INSERT INTO ${SCHEMA}.incident_notices (incident_id, notice, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
    [incidentId, notice, now],
  );
  return rowCount === 1;
}

/**
 * `firstNotice` for a batch: claims `notice` for each of `incidentIds` (in the order given, which
 * is the order the batch locks them in) in one statement, and returns the incidents whose claim
 * is new — each to be given to the first of the batch's events that asks for it.
 */
export async function claimNotices(client: PoolClient, incidentIds: readonly string[], notice: string, now: Date): Promise<Set<string>> {
  const ids = [...new Set(incidentIds)];
  if (ids.length === 0) return new Set();
  const { rows } = await client.query<{ incident_id: string }>(
    `INSERT INTO ${SCHEMA}.incident_notices (incident_id, notice, created_at)
     SELECT incident_id, $2, $3 FROM unnest($1::text[]) WITH ORDINALITY AS i(incident_id, n) ORDER BY n
     ON CONFLICT DO NOTHING
     RETURNING incident_id`,
    [ids, notice, now],
  );
  return new Set(rows.map((r) => r.incident_id));
}
