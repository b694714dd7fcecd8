import { z } from 'zod';
import { Incident, type IncidentStatus } from '@griddispatch/contracts';
import type { IncidentRow } from '../schema.ts';

// What the dispatch board shows of an incident (docs/architecture.md#incidents): its size (calls, customers without
// power), status, ETR and where it nests. Pure: built from intake's snapshot alone.

/** Incidents the board lists: power is still off (restored and closed ones leave the board). */
export const BOARD_INCIDENT_OPEN_STATUSES = ['open', 'dispatched', 'en_route', 'arrived'] as const satisfies readonly IncidentStatus[];

export const BoardIncident = Incident.extend({
  /** False once restored or closed: the board drops the row. */
  open: z.boolean(),
});
export type BoardIncident = z.infer<typeof BoardIncident>;

export function toBoardIncident(row: Pick<IncidentRow, 'data' | 'status'>): BoardIncident {
  return { ...row.data, open: (BOARD_INCIDENT_OPEN_STATUSES as readonly string[]).includes(row.status) };
}
