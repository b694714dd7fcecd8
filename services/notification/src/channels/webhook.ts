import { Webhook } from 'standardwebhooks';
import { CLOUDEVENTS_CONTENT_TYPE } from '@griddispatch/contracts';
import { classifyHttpStatus, networkFailure } from '../delivery/retry-policy.ts';
import { errorDetail, header, post } from './http.ts';
import type { Channel, SendOutcome, SendRequest } from './types.ts';

// Integrators' webhooks, signed per Standard Webhooks (docs/architecture.md#http-api): `webhook-id` is the CloudEvent
// id (the same on every retry, so a receiver can dedupe), `webhook-timestamp` the attempt's time,
// `webhook-signature` `v1,<base64 HMAC-SHA256>` over `id.timestamp.body` with the subscription's
// secret. The body is the CloudEvent JSON, byte for byte what was signed.

export interface WebhookChannelOptions {
  timeoutMs: number;
  userAgent?: string;
}

export function createWebhookChannel(options: WebhookChannelOptions): Channel {
  const userAgent = options.userAgent ?? 'griddispatch-webhooks/1';
  return {
    name: 'webhook',
    async send(request: SendRequest): Promise<SendOutcome> {
      const { payload, webhook } = request;
      if (payload.channel !== 'webhook') throw new Error(`webhook channel got a ${payload.channel} payload`);
      if (!webhook) return { kind: 'permanent', statusCode: null, error: 'subscription not found' };
      const signature = new Webhook(webhook.secret).sign(payload.eventId, request.now, payload.body);
      const headers = {
        'content-type': `${CLOUDEVENTS_CONTENT_TYPE}; charset=utf-8`,
        'user-agent': userAgent,
        'webhook-id': payload.eventId,
        'webhook-timestamp': String(Math.floor(request.now.getTime() / 1000)),
        'webhook-signature': signature,
      };
      try {
        const answer = await post(webhook.url, payload.body, headers, options.timeoutMs);
        const outcome = classifyHttpStatus(answer.status, header(answer, 'retry-after'), request.now);
        return outcome.kind === 'delivered' || outcome.kind === 'gone' ? outcome : { ...outcome, error: errorDetail(answer) };
      } catch (err) {
        return networkFailure(err);
      }
    },
  };
}
