import type { InboxConsumer } from '@griddispatch/db';
import { EventTypeName } from '@griddispatch/contracts';
import { deskDrafts, webhookDrafts } from '../use-cases/draft-deliveries.ts';
import { findSubscribers } from '../use-cases/find-subscribers.ts';
import { batchNotificationConsumer, type BatchPlanner, type ConsumerDeps } from './consume.ts';

export const CONSUMER = 'notification.dispatch-unroutable';

/**
 * dispatch.unroutable → the operator desk (its robot and phones, else the log) must dispatch by
 * hand; integrators subscribed to `dispatch.unroutable` without a grid filter get the event.
 */
const planner: BatchPlanner<typeof EventTypeName.dispatchUnroutable, string[]> = {
  // The subscribers without a grid filter: one look-up for the batch.
  prepare: (_deps, client) => findSubscribers(client, 'dispatch.unroutable', []),
  async plan(deps, { event, raw }, subscribers) {
    const d = event.data;
    const rendered = deps.catalog.dispatchUnroutable(d);
    return [...deskDrafts(deps.config, d.fallbackDesk, rendered, 'dispatch.unroutable'), ...webhookDrafts(subscribers, event.id, raw)];
  },
  finish: async () => undefined,
};

export function dispatchUnroutableConsumer(deps: ConsumerDeps): InboxConsumer {
  return batchNotificationConsumer(deps, EventTypeName.dispatchUnroutable, CONSUMER, planner);
}
