import type { PoolClient } from 'pg';
import { EventTypeName } from '@griddispatch/contracts';
import type { Logger } from '@griddispatch/observability';
import type { IntakeContext } from '../context.ts';
import { askCallbacks } from '../use-cases/callbacks.ts';
import { recordIncident, type IncidentEvent } from '../use-cases/follow-incident.ts';
import { needsOwnWorkOrder, openIncidentWorkOrder } from '../use-cases/open-incident-work-order.ts';
import type { ReadModelBatch } from '../use-cases/update-read-model.ts';

/**
 * `incident.opened|updated|restored|closed` → intake's copy of the incident, its work orders'
 * ETR and merged status; on `opened` without a call, the incident's own work order (rule 2), and
 * a new one when the primary was cancelled while the incident is still open; on its restoration,
 * the callbacks of its callers.
 */
export async function onIncidentEvent(ctx: IntakeContext, client: PoolClient, event: IncidentEvent, log: Logger, batch: ReadModelBatch): Promise<void> {
  const { applied } = await recordIncident(client, event, log, batch);
  if (!applied) return;
  const { change, ...incident } = event.data;
  // Its callers are asked to confirm once it is restored (the callbacks row makes it once).
  if (incident.status === 'restored' || incident.status === 'closed') {
    const asked = await askCallbacks(client, incident, event.id, ctx.now(), batch);
    if (asked > 0) log.info({ asked }, 'callers asked to confirm the restoration');
  }
  if (!needsOwnWorkOrder(incident)) return;
  if (event.type === EventTypeName.incidentOpened) await openIncidentWorkOrder(ctx, client, incident, log);
  else if (incident.status === 'open' && change.split(',').includes('primary_cancelled')) await openIncidentWorkOrder(ctx, client, incident, log, event.id);
}
