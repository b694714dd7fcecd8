import type { InboxConsumer } from '@griddispatch/db';
import { EventTypeName, type CloudEvent } from '@griddispatch/contracts';
import type { Mention } from '../templates/index.ts';
import { assigneeContacts, contactsWithRoles, deskDrafts, phonesOf, smsDrafts, webhookDrafts, wecomDrafts } from '../use-cases/draft-deliveries.ts';
import type { DeliveryDraft } from '../use-cases/record-deliveries.ts';
import { batchNotificationConsumer, prepareWorkOrderBatch, workOrderOrRetry, type BatchPlanner, type ConsumerDeps, type WorkOrderBatch } from './consume.ts';

export const CONSUMER = 'notification.sla-breaches';

/**
 * sla.breaches → escalation: everyone holding a role the breach's step names (level 1: e.g.
 * assistant and repair crew; level 2: the supervisor) gets an SMS, the grid's group a card
 * mentioning them, and `sla.breached` subscribers the event. A step naming no role goes to the
 * assignees. Staff hear of each (stage, level) of an incident once, not once per caller.
 * Batch-first: the batch's work orders and subscribers are read, and its incidents' notices
 * claimed, before its first event.
 */
const planner: BatchPlanner<SlaBreached, WorkOrderBatch> = {
  prepare: (deps, client, events) =>
    prepareWorkOrderBatch(client, events, 'sla.breached', (e) => ({ workOrderId: e.data.workOrderId, gridId: e.data.gridId }), noticeOf, deps.now()),

  async plan(deps, input, shared) {
    const { event, raw } = input;
    const d = event.data;
    const { workOrder, subscribers } = shared.found.get(event.id) ?? { workOrder: null, subscribers: [] };
    const wo = workOrderOrRetry(deps, input, d.workOrderId, workOrder);
    let staff: DeliveryDraft[] = [];
    if (!wo) {
      staff = deskDrafts(deps.config, 'operators', deps.catalog.slaBreached(d, null, []), 'sla.breached');
    } else if (shared.notices.first(wo.incidentId, noticeOf(event))) {
      const people = d.notify.length > 0 ? contactsWithRoles(wo.contacts, d.notify) : assigneeContacts(wo.assignees, wo.contacts);
      const mentions: Mention[] = people.map((p) => ({ name: p.name, role: p.role, ...(p.wecomUserId ? { wecomUserId: p.wecomUserId } : {}) }));
      const rendered = deps.catalog.slaBreached(d, wo, mentions);
      if (people.length === 0) input.log.warn({ roles: d.notify }, 'no contact holds the roles this escalation step names');
      staff = [...smsDrafts(phonesOf(people), rendered, 'sla.breached'), ...wecomDrafts(wo.wecomRobotUrl, rendered)];
    }
    return [...staff, ...webhookDrafts(subscribers, event.id, raw)];
  },

  finish: async () => undefined,
};

type SlaBreached = typeof EventTypeName.slaBreached;

const noticeOf = (event: CloudEvent<SlaBreached>): string => `breach:${event.data.stage}:${event.data.level}`;

export function slaBreachedConsumer(deps: ConsumerDeps): InboxConsumer {
  return batchNotificationConsumer(deps, EventTypeName.slaBreached, CONSUMER, planner);
}
