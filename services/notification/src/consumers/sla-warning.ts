import type { InboxConsumer } from '@griddispatch/db';
import { EventTypeName } from '@griddispatch/contracts';
import { assigneeContacts, deskDrafts, phonesOf, smsDrafts, webhookDrafts, wecomDrafts } from '../use-cases/draft-deliveries.ts';
import { findWorkOrderAndSubscribers } from '../use-cases/find-subscribers.ts';
import { firstNotice } from '../use-cases/incident-notices.ts';
import type { DeliveryDraft } from '../use-cases/record-deliveries.ts';
import { notificationConsumer, workOrderOrRetry, type ConsumerDeps, type Planner } from './consume.ts';

export const CONSUMER = 'notification.sla-warnings';

/**
 * sla.warnings → the current assignees by SMS, the grid's group, and `sla.warning` subscribers.
 * Staff hear of each stage of an incident once, not once per caller.
 */
const plan: Planner<typeof EventTypeName.slaWarning> = async (deps, input) => {
  const { client, event, raw } = input;
  const d = event.data;
  const { workOrder, subscribers } = await findWorkOrderAndSubscribers(client, d.workOrderId, 'sla.warning', [d.gridId]);
  const wo = workOrderOrRetry(deps, input, d.workOrderId, workOrder);
  let staff: DeliveryDraft[] = [];
  if (!wo) {
    staff = deskDrafts(deps.config, 'operators', deps.catalog.slaWarning(d, null), 'sla.warning');
  } else if (await firstNotice(client, wo.incidentId, `warning:${d.stage}`, deps.now())) {
    const rendered = deps.catalog.slaWarning(d, wo);
    staff = [...smsDrafts(phonesOf(assigneeContacts(wo.assignees, wo.contacts)), rendered, 'sla.warning'), ...wecomDrafts(wo.wecomRobotUrl, rendered)];
  }
  return [...staff, ...webhookDrafts(subscribers, event.id, raw)];
};

export function slaWarningConsumer(deps: ConsumerDeps): InboxConsumer {
  return notificationConsumer(deps, EventTypeName.slaWarning, CONSUMER, plan);
}
