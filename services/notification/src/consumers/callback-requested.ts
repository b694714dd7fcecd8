import type { InboxConsumer } from '@griddispatch/db';
import { EventTypeName, isEvent } from '@griddispatch/contracts';
import { normalizeCnMobile } from '../channels/phone.ts';
import { SCHEMA } from '../schema.ts';
import { smsDrafts } from '../use-cases/draft-deliveries.ts';
import { batchNotificationConsumer, type BatchPlanner, type ConsumerDeps } from './consume.ts';

export const CONSUMER = 'notification.callbacks-events';

const TYPES = [EventTypeName.callbackRequested, EventTypeName.callbackAnswered] as const;

/**
 * callbacks.events → `callback.requested`: the caller gets the callback ask (回访) by SMS, and the
 * ask is kept so the caller's reply (POST /v1/inbound/sms) finds its request by the number.
 * `callback.answered` tells nobody here (grid-routing acts on it). A number that is no mobile is
 * still recorded as a failed delivery (it shows why); it cannot reply.
 */
const planner: BatchPlanner<(typeof TYPES)[number], CallbackAsk[]> = {
  prepare: async () => [],
  async plan(deps, { event }, asks) {
    if (!isEvent(event, EventTypeName.callbackRequested)) return [];
    const d = event.data;
    const phone = normalizeCnMobile(d.phone);
    if (phone) asks.push({ requestId: d.requestId, incidentId: d.incidentId, phone, askedAt: d.askedAt });
    return smsDrafts([d.phone], deps.replies.callbackAsk(), 'callback.requested');
  },
  // The batch's asks in one statement; a request asked before keeps its first ask.
  async finish(_deps, client, asks) {
    if (asks.length === 0) return;
    await client.query(
      `INSERT INTO ${SCHEMA}.callback_asks (request_id, incident_id, phone, asked_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
       ON CONFLICT (request_id) DO NOTHING`,
      [asks.map((a) => a.requestId), asks.map((a) => a.incidentId), asks.map((a) => a.phone), asks.map((a) => a.askedAt)],
    );
  },
};

interface CallbackAsk {
  requestId: string;
  incidentId: string | null;
  phone: string;
  askedAt: string;
}

export function callbackRequestedConsumer(deps: ConsumerDeps): InboxConsumer {
  return batchNotificationConsumer(deps, TYPES, CONSUMER, planner);
}
