import type { InboxConsumer } from '@griddispatch/db';
import { EventTypeName } from '@griddispatch/contracts';
import { assigneeContacts, deskDrafts, phonesOf, smsDrafts, wecomDrafts } from '../use-cases/draft-deliveries.ts';
import { batchNotificationConsumer, slaPlanner, type ConsumerDeps } from './consume.ts';

export const CONSUMER = 'notification.sla-warnings';

/**
 * sla.warnings → the current assignees by SMS, the grid's group, and `sla.warning` subscribers.
 * Staff hear of each stage of an incident once, not once per caller.
 */
const planner = slaPlanner<typeof EventTypeName.slaWarning>({
  subscription: 'sla.warning',
  noticeOf: (event) => `warning:${event.data.stage}`,
  desk: (deps, event) => deskDrafts(deps.config, 'operators', deps.catalog.slaWarning(event.data, null), 'sla.warning'),
  staff(deps, { event }, wo) {
    const rendered = deps.catalog.slaWarning(event.data, wo);
    return [...smsDrafts(phonesOf(assigneeContacts(wo.assignees, wo.contacts)), rendered, 'sla.warning'), ...wecomDrafts(wo.wecomRobotUrl, rendered)];
  },
});

export function slaWarningConsumer(deps: ConsumerDeps): InboxConsumer {
  return batchNotificationConsumer(deps, EventTypeName.slaWarning, CONSUMER, planner);
}
