import type { InboxConsumer } from '@griddispatch/db';
import { EventTypeName } from '@griddispatch/contracts';
import type { Mention } from '../templates/index.ts';
import { assigneeContacts, contactsWithRoles, deskDrafts, phonesOf, smsDrafts, wecomDrafts } from '../use-cases/draft-deliveries.ts';
import { batchNotificationConsumer, slaPlanner, type ConsumerDeps } from './consume.ts';

export const CONSUMER = 'notification.sla-breaches';

/**
 * sla.breaches → escalation: everyone holding a role the breach's step names (level 1: e.g.
 * assistant and repair crew; level 2: the supervisor) gets an SMS, the grid's group a card
 * mentioning them, and `sla.breached` subscribers the event. A step naming no role goes to the
 * assignees. Staff hear of each (stage, level) of an incident once, not once per caller.
 */
const planner = slaPlanner<typeof EventTypeName.slaBreached>({
  subscription: 'sla.breached',
  noticeOf: (event) => `breach:${event.data.stage}:${event.data.level}`,
  desk: (deps, event) => deskDrafts(deps.config, 'operators', deps.catalog.slaBreached(event.data, null, []), 'sla.breached'),
  staff(deps, { event, log }, wo) {
    const d = event.data;
    const people = d.notify.length > 0 ? contactsWithRoles(wo.contacts, d.notify) : assigneeContacts(wo.assignees, wo.contacts);
    const mentions: Mention[] = people.map((p) => ({ name: p.name, role: p.role, ...(p.wecomUserId ? { wecomUserId: p.wecomUserId } : {}) }));
    const rendered = deps.catalog.slaBreached(d, wo, mentions);
    if (people.length === 0) log.warn({ roles: d.notify }, 'no contact holds the roles this escalation step names');
    return [...smsDrafts(phonesOf(people), rendered, 'sla.breached'), ...wecomDrafts(wo.wecomRobotUrl, rendered)];
  },
});

export function slaBreachedConsumer(deps: ConsumerDeps): InboxConsumer {
  return batchNotificationConsumer(deps, EventTypeName.slaBreached, CONSUMER, planner);
}
