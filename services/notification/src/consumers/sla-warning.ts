import type { InboxConsumer } from '@griddispatch/db';
import { EventTypeName, type CloudEvent } from '@griddispatch/contracts';
import { assigneeContacts, deskDrafts, phonesOf, smsDrafts, webhookDrafts, wecomDrafts } from '../use-cases/draft-deliveries.ts';
import type { DeliveryDraft } from '../use-cases/record-deliveries.ts';
import { batchNotificationConsumer, prepareWorkOrderBatch, workOrderOrRetry, type BatchPlanner, type ConsumerDeps, type WorkOrderBatch } from './consume.ts';

export const CONSUMER = 'notification.sla-warnings';

/**
 * sla.warnings → the current assignees by SMS, the grid's group, and `sla.warning` subscribers.
 * Staff hear of each stage of an incident once, not once per caller. Batch-first: the batch's work
 * orders and subscribers are read, and its incidents' notices claimed, before its first event.
 */
const planner: BatchPlanner<SlaWarning, WorkOrderBatch> = {
  prepare: (deps, client, events) =>
    prepareWorkOrderBatch(client, events, 'sla.warning', (e) => ({ workOrderId: e.data.workOrderId, gridId: e.data.gridId }), noticeOf, deps.now()),

  async plan(deps, input, shared) {
    const { event, raw } = input;
    const d = event.data;
    const { workOrder, subscribers } = shared.found.get(event.id) ?? { workOrder: null, subscribers: [] };
    const wo = workOrderOrRetry(deps, input, d.workOrderId, workOrder);
    let staff: DeliveryDraft[] = [];
    if (!wo) {
      staff = deskDrafts(deps.config, 'operators', deps.catalog.slaWarning(d, null), 'sla.warning');
    } else if (shared.notices.first(wo.incidentId, noticeOf(event))) {
      const rendered = deps.catalog.slaWarning(d, wo);
      staff = [...smsDrafts(phonesOf(assigneeContacts(wo.assignees, wo.contacts)), rendered, 'sla.warning'), ...wecomDrafts(wo.wecomRobotUrl, rendered)];
    }
    return [...staff, ...webhookDrafts(subscribers, event.id, raw)];
  },

  finish: async () => undefined,
};

type SlaWarning = typeof EventTypeName.slaWarning;

const noticeOf = (event: CloudEvent<SlaWarning>): string => `warning:${event.data.stage}`;

export function slaWarningConsumer(deps: ConsumerDeps): InboxConsumer {
  return batchNotificationConsumer(deps, EventTypeName.slaWarning, CONSUMER, planner);
}
