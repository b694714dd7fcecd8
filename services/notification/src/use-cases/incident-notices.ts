import type { PoolClient } from 'pg';
import { SCHEMA } from '../schema.ts';

// A typhoon brings hundreds of calls from one 台区 within minutes; grid-routing joins them into one
// incident and sends one crew. The crew and the escalation roles should hear of the incident, not
// of every caller: staff get the first call's dispatch, a new message when the incident passes 10,
// 100 and 1000 calls (the text says how many calls it merged), and each (stage, level) of its
// warnings and breaches once. Integrators' webhooks still get every event.

/** The dispatch notice a call's incident size belongs to: 1–9 calls, 10–99, 100–999, 1000 and more. */
export function dispatchNotice(incidentSize: number | undefined): string {
  const size = incidentSize ?? 1;
  return size >= 1000 ? 'dispatch:1000' : size >= 100 ? 'dispatch:100' : size >= 10 ? 'dispatch:10' : 'dispatch';
}

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
