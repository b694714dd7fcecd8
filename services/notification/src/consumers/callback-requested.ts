import type { InboxConsumer } from '@griddispatch/db';
import { EventTypeName, isEvent } from '@griddispatch/contracts';
import { normalizeCnMobile } from '../channels/phone.ts';
import { SCHEMA } from '../schema.ts';
import { smsDrafts } from '../use-cases/draft-deliveries.ts';
import { notificationConsumer, type ConsumerDeps, type Planner } from './consume.ts';

export const CONSUMER = 'notification.callbacks-events';

const TYPES = [EventTypeName.callbackRequested, EventTypeName.callbackAnswered] as const;

/**
 * callbacks.events → `callback.requested`: the caller gets the callback ask (回访) by SMS, and the
 * ask is kept so the caller's reply (POST /v1/inbound/sms) finds its request by the number.
 * `callback.answered` tells nobody here (grid-routing acts on it). A number that is no mobile is
 * still recorded as a failed delivery (it shows why); it cannot reply.
 */
const plan: Planner<(typeof TYPES)[number]> = async (deps, { client, event }) => {
  if (!isEvent(event, EventTypeName.callbackRequested)) return [];
  const d = event.data;
  const phone = normalizeCnMobile(d.phone);
  if (phone) {
    await client.query(
      `INSERT INTO ${SCHEMA}.callback_asks (request_id, incident_id, phone, asked_at) VALUES ($1, $2, $3, $4) ON CONFLICT (request_id) DO NOTHING`,
      [d.requestId, d.incidentId, phone, d.askedAt],
    );
  }
  return smsDrafts([d.phone], deps.replies.callbackAsk(), 'callback.requested');
};

export function callbacksEventsConsumer(deps: ConsumerDeps): InboxConsumer {
  return notificationConsumer(deps, TYPES, CONSUMER, plan);
}
