import type { InboxConsumer } from '@griddispatch/db';
import { EventTypeName } from '@griddispatch/contracts';
import type { Mention } from '../templates/index.ts';
import { assigneeContacts, contactsWithRoles, deskDrafts, phonesOf, smsDrafts, webhookDrafts, wecomDrafts } from '../use-cases/draft-deliveries.ts';
import { findWorkOrderAndSubscribers } from '../use-cases/find-subscribers.ts';
import { firstNotice } from '../use-cases/incident-notices.ts';
import type { DeliveryDraft } from '../use-cases/record-deliveries.ts';
import { notificationConsumer, workOrderOrRetry, type ConsumerDeps, type Planner } from './consume.ts';

export const CONSUMER = 'notification.sla-breaches';

/**
 * sla.breaches → escalation: everyone holding a role the breach's step names (level 1: e.g.
 * assistant and repair crew; level 2: the supervisor) gets an SMS, the grid's group a card
 * mentioning them, and `sla.breached` subscribers the event. A step naming no role goes to the
 * assignees. Staff hear of each (stage, level) of an incident once, not once per caller.
 */
const plan: Planner<typeof EventTypeName.slaBreached> = async (deps, input) => {
  const { client, event, raw } = input;
  const d = event.data;
  const { workOrder, subscribers } = await findWorkOrderAndSubscribers(client, d.workOrderId, 'sla.breached', [d.gridId]);
  const wo = workOrderOrRetry(deps, input, d.workOrderId, workOrder);
  let staff: DeliveryDraft[] = [];
  if (!wo) {
    staff = deskDrafts(deps.config, 'operators', deps.catalog.slaBreached(d, null, []), 'sla.breached');
  } else if (await firstNotice(client, wo.incidentId, `breach:${d.stage}:${d.level}`, deps.now())) {
    const people = d.notify.length > 0 ? contactsWithRoles(wo.contacts, d.notify) : assigneeContacts(wo.assignees, wo.contacts);
    const mentions: Mention[] = people.map((p) => ({ name: p.name, role: p.role, ...(p.wecomUserId ? { wecomUserId: p.wecomUserId } : {}) }));
    const rendered = deps.catalog.slaBreached(d, wo, mentions);
    if (people.length === 0) input.log.warn({ roles: d.notify }, 'no contact holds the roles this escalation step names');
    staff = [...smsDrafts(phonesOf(people), rendered, 'sla.breached'), ...wecomDrafts(wo.wecomRobotUrl, rendered)];
  }
  return [...staff, ...webhookDrafts(subscribers, event.id, raw)];
};

export function slaBreachedConsumer(deps: ConsumerDeps): InboxConsumer {
  return notificationConsumer(deps, EventTypeName.slaBreached, CONSUMER, plan);
}
