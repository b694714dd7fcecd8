import type { InboxConsumer } from '@griddispatch/db';
import { EventTypeName } from '@griddispatch/contracts';
import { assigneeContacts, phonesOf, robotFor, smsDrafts, webhookDrafts, wecomDrafts } from '../use-cases/draft-deliveries.ts';
import { withAckCodes } from '../replies/ack-codes.ts';
import { findSubscribers } from '../use-cases/find-subscribers.ts';
import { DISPATCH_NOTICE, firstNotice } from '../use-cases/incident-notices.ts';
import type { DeliveryDraft } from '../use-cases/record-deliveries.ts';
import { rememberGrid } from '../use-cases/remember-grid.ts';
import { rememberWorkOrder } from '../use-cases/remember-work-order.ts';
import { notificationConsumer, type ConsumerDeps, type Planner } from './consume.ts';

export const CONSUMER = 'notification.dispatch-assigned';

/**
 * dispatch.assigned → the assignees get an SMS (with their code to acknowledge by reply), the grid's WeCom group a markdown card, and
 * integrators subscribed to `dispatch.assigned` (for this grid or its area) the CloudEvent. The
 * grid's people are kept for the work order's later warnings and escalations. Staff hear of an
 * incident once (incident-notices.ts): a merged call (`role: 'merged'`) reaches integrators only,
 * and so does a primary whose incident's notice was already given (a feeder incident's opening).
 */
const plan: Planner<typeof EventTypeName.dispatchAssigned> = async (deps, { client, event, raw }) => {
  const d = event.data;
  const now = deps.now();
  const robot = robotFor(deps.config, d.grid.id, d.grid.areaId);
  await rememberWorkOrder(client, d, robot, event.id, now);
  // The grid's people, for its incidents' events (which carry a grid id, not people).
  if (d.role === 'primary') await rememberGrid(client, d, now);
  const subscribers = await findSubscribers(client, 'dispatch.assigned', [d.grid.id, d.grid.areaId]);
  let staff: DeliveryDraft[] = [];
  if (d.role !== 'merged' && (await firstNotice(client, d.incidentId, DISPATCH_NOTICE, now))) {
    const rendered = deps.catalog.dispatchAssigned(d);
    const people = assigneeContacts(d.assignees, d.contacts);
    // Each assignee's SMS carries their own code: `1 <code>` acknowledges by reply.
    const sms = await withAckCodes(
      client,
      d.workOrderId,
      people,
      smsDrafts(phonesOf(people), rendered, 'dispatch.assigned'),
      deps.replies,
      now,
      deps.config.replies.ackCodeTtlMs,
    );
    staff = [...sms, ...wecomDrafts(robot, rendered)];
  }
  return [...staff, ...webhookDrafts(subscribers, event.id, raw)];
};

export function dispatchAssignedConsumer(deps: ConsumerDeps): InboxConsumer {
  return notificationConsumer(deps, EventTypeName.dispatchAssigned, CONSUMER, plan);
}
