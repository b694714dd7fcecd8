import type { PoolClient } from 'pg';
import type { Incident } from '@griddispatch/contracts';
import type { Logger } from '@griddispatch/observability';
import type { IntakeContext } from '../context.ts';
import { IntakeRequestBody } from '../domain/request-body.ts';
import { prepareRequest } from './create-request.ts';
import { storeRequests } from './store-requests.ts';

// docs/architecture.md#incidents rule 2: an incident opened without a call — its meters reported the outage, or it
// is a feeder incident over several 台区 — has no work order to carry its crew. intake opens one,
// exactly as a POST /v1/requests would (same row, timeline, board notice and requests.received
// event), in the consumer's transaction, idempotent on (grid-dispatch, incident:<id>). Its
// requests.received names the incident; grid-routing makes it the incident's primary.

export const INCIDENT_WORK_ORDER_SOURCE = 'grid-dispatch';

/** Whether intake opens a work order for an incident that has just opened. */
export function needsOwnWorkOrder(incident: Incident): boolean {
  return incident.primaryRequestId === null && incident.parentId === null && incident.origin !== 'planned';
}

/**
 * The work order's body. `replacing`: the id of the event that said the incident's primary was
 * cancelled — its replacement gets a key of its own, as idempotent as the first.
 */
export function incidentWorkOrderBody(incident: Incident, replacing?: string): IntakeRequestBody {
  const districtCode = incident.districtCodes[0];
  return {
    source: INCIDENT_WORK_ORDER_SOURCE,
    externalId: replacing ? `incident:${incident.id}:${replacing}` : `incident:${incident.id}`,
    category: 'fault_repair',
    urgency: incident.urgency,
    description: `故障事件 ${incident.id}（${incident.kind === 'feeder' ? `馈线 ${incident.feederCode ?? ''} 故障` : incident.origin === 'meter' ? '电表停电告警' : '停电'}，无来电）`,
    location: districtCode ? { districtCode } : { feederCode: incident.feederCode ?? undefined },
  };
}

/** Stores the incident's own work order unless it exists; resolves to its id, or null when it cannot be stored. */
export async function openIncidentWorkOrder(
  ctx: IntakeContext,
  client: PoolClient,
  incident: Incident,
  log: Logger,
  replacing?: string,
): Promise<string | null> {
  const parsed = IntakeRequestBody.safeParse(incidentWorkOrderBody(incident, replacing));
  if (!parsed.success) {
    // The incident names no 台区 or feeder a request could carry: grid-routing's data is wrong.
    // The snapshot is kept; an operator sees the incident without a work order on the board.
    log.error({ incidentId: incident.id, issues: parsed.error.issues.slice(0, 3) }, 'incident work order: not a valid request; none opened');
    return null;
  }
  const prepared = prepareRequest(ctx, { body: parsed.data, channel: 'incident', receivedBy: 'incidents.events', incidentId: incident.id });
  const [outcome] = await storeRequests(client, [prepared]);
  if (!outcome!.ok) {
    // 409: someone posted grid-dispatch/incident:<id> with another body. Retrying cannot change
    // that; the incident stays without its own work order, and the log says why.
    log.error({ err: outcome!.error, incidentId: incident.id }, 'incident work order: its key is taken by another request; none opened');
    return null;
  }
  const stored = outcome!.value;
  if (!stored.duplicate) {
    await client.query('UPDATE intake.requests SET incident_id = $2, etr = $3 WHERE id = $1', [stored.id, incident.id, incident.etr]);
    log.info({ incidentId: incident.id, workOrderId: stored.id }, 'incident work order opened');
  }
  return stored.id;
}
