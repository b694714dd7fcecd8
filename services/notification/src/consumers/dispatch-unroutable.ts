import type { InboxConsumer } from '@griddispatch/db';
import { EventTypeName } from '@griddispatch/contracts';
import { deskDrafts, webhookDrafts } from '../use-cases/draft-deliveries.ts';
import { findSubscribers } from '../use-cases/find-subscribers.ts';
import { notificationConsumer, type ConsumerDeps, type Planner } from './consume.ts';

export const CONSUMER = 'notification.dispatch-unroutable';

/**
 * dispatch.unroutable → the operator desk (its robot and phones, else the log) must dispatch by
 * hand; integrators subscribed to `dispatch.unroutable` without a grid filter get the event.
 */
const plan: Planner<typeof EventTypeName.dispatchUnroutable> = async (deps, { client, event, raw }) => {
  const d = event.data;
  const rendered = deps.catalog.dispatchUnroutable(d);
  const subscribers = await findSubscribers(client, 'dispatch.unroutable', []);
  return [...deskDrafts(deps.config, d.fallbackDesk, rendered, 'dispatch.unroutable'), ...webhookDrafts(subscribers, event.id, raw)];
};

export function dispatchUnroutableConsumer(deps: ConsumerDeps): InboxConsumer {
  return notificationConsumer(deps, EventTypeName.dispatchUnroutable, CONSUMER, plan);
}
