import type { InboxConsumer } from '@griddispatch/db';
import { EventTypeName, type WorkOrderEventType } from '@griddispatch/contracts';
import { deskDrafts, phonesOf, smsDrafts, webhookDrafts, wecomDrafts } from '../use-cases/draft-deliveries.ts';
import { expireAckCodes, withAckCodes } from '../replies/ack-codes.ts';
import { findWorkOrderAndSubscribers } from '../use-cases/find-subscribers.ts';
import type { DeliveryDraft } from '../use-cases/record-deliveries.ts';
import { replaceAssignees } from '../use-cases/remember-work-order.ts';
import { notificationConsumer, workOrderOrRetry, type ConsumerDeps, type Planner } from './consume.ts';

export const CONSUMER = 'notification.workorders-events';

/** Changes the grid's group hears about; the rest of the field app's updates go to integrators only. */
const GROUP_WORTHY: ReadonlySet<WorkOrderEventType> = new Set(['reassigned', 'cancelled']);

/**
 * workorders.events → integrators subscribed to `workorder.updated` get every update. A
 * reassignment also texts the new assignee and tells the grid's group (and makes the new assignee
 * the one later warnings go to; their SMS carries a code of their own, the previous addressees'
 * codes stop working); a cancellation tells the group. A work order leaving `assigned` ends its
 * acknowledgement codes.
 */
const plan: Planner<typeof EventTypeName.workorderUpdated> = async (deps, input) => {
  const { client, event, raw } = input;
  const d = event.data;
  // Codes acknowledge an assigned work order only, and only for whom it is assigned to.
  if (d.status !== 'assigned' || d.type === 'reassigned') await expireAckCodes(client, d.workOrderId, deps.now());
  const { workOrder, subscribers } = await findWorkOrderAndSubscribers(client, d.workOrderId, 'workorder.updated', d.gridId);
  const staff: DeliveryDraft[] = [];
  if (GROUP_WORTHY.has(d.type)) {
    const wo = workOrderOrRetry(deps, input, d.workOrderId, workOrder);
    const rendered = deps.catalog.workOrderUpdated(d, wo);
    if (!wo) {
      staff.push(...deskDrafts(deps.config, 'operators', rendered, 'workorder.updated'));
    } else {
      if (d.type === 'reassigned' && d.assignee) {
        const contact = wo.contacts.find((c) => c.staffId === d.assignee?.staffId);
        await replaceAssignees(client, wo.workOrderId, [{ staffId: d.assignee.staffId, name: d.assignee.name, role: contact?.role ?? 'manager' }], deps.now());
        if (contact) {
          const sms = smsDrafts(phonesOf([contact]), rendered, 'workorder.updated');
          staff.push(
            ...(d.status === 'assigned'
              ? await withAckCodes(client, wo.workOrderId, [contact], sms, deps.replies, deps.now(), deps.config.replies.ackCodeTtlMs)
              : sms),
          );
        }
      }
      staff.push(...wecomDrafts(wo.wecomRobotUrl, rendered));
    }
  }
  return [...staff, ...webhookDrafts(subscribers, event.id, raw)];
};

export function workOrderUpdatedConsumer(deps: ConsumerDeps): InboxConsumer {
  return notificationConsumer(deps, EventTypeName.workorderUpdated, CONSUMER, plan);
}
