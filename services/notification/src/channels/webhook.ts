import { isIP } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { CLOUDEVENTS_CONTENT_TYPE } from '@griddispatch/contracts';
import { currentTraceparent } from '@griddispatch/observability';
import { classifyHttpStatus } from '../delivery/retry-policy.ts';
import { createAgents, header, post } from './http.ts';
import type { Redactor } from './personal-data.ts';
import type { Channel, SendOutcome, SendRequest } from './types.ts';
import { guardedLookup, hostOf, resolveChecked, type TargetPolicy } from './webhook-target.ts';

// Integrators' webhooks, signed per Standard Webhooks (docs/architecture.md#http-api): `webhook-id` is the CloudEvent
// id (the same on every retry, so a receiver can dedupe), `webhook-timestamp` the attempt's time,
// `webhook-signature` `v1,<base64 HMAC-SHA256>` over `id.timestamp.body` with the subscription's
// secret. The body is the CloudEvent JSON — redacted when the subscription may not see personal
// data — byte for byte what was signed.
//
// A receiver is chosen by whoever holds a key, so (issue 17.1) the connection goes only to
// addresses the target policy allows, checked in the agent's lookup (webhook-target.ts), and the
// delivery log keeps our own words for what happened (`http_503`, `timeout`, `refused_address`,
// `dns_failed`, `connection_failed`) — never the receiver's page or a raw socket error, which
// would make the log a port scanner's read-out.

export interface WebhookChannelOptions {
  timeoutMs: number;
  userAgent?: string;
  target: TargetPolicy;
  redactor: Redactor;
}

export function createWebhookChannel(options: WebhookChannelOptions): Channel {
  const userAgent = options.userAgent ?? 'griddispatch-webhooks/1';
  // Its own socket pool: integrators' receivers never hold the staff channels' sockets.
  const agents = createAgents(guardedLookup(options.target));
  return {
    name: 'webhook',
    async send(request: SendRequest): Promise<SendOutcome> {
      const { payload, webhook } = request;
      if (payload.channel !== 'webhook') throw new Error(`webhook channel got a ${payload.channel} payload`);
      if (!webhook) return { kind: 'permanent', statusCode: null, error: 'subscription_not_found' };
      let body: string;
      try {
        body = webhook.piiRead ? payload.body : options.redactor.redactEvent(payload.body);
      } catch {
        // Never send what could not be redacted.
        return { kind: 'permanent', statusCode: null, error: 'unreadable_event' };
      }
      const signature = new Webhook(webhook.secret).sign(payload.eventId, request.now, body);
      const headers: Record<string, string> = {
        'content-type': `${CLOUDEVENTS_CONTENT_TYPE}; charset=utf-8`,
        'user-agent': userAgent,
        'webhook-id': payload.eventId,
        'webhook-timestamp': String(Math.floor(request.now.getTime() / 1000)),
        'webhook-signature': signature,
      };
      // The receiver continues the request's trace from our send span (W3C Trace Context).
      const traceparent = currentTraceparent();
      if (traceparent) headers.traceparent = traceparent;
      try {
        // An IP literal never reaches the agent's lookup: check it here.
        const host = hostOf(new URL(webhook.url));
        if (isIP(host)) await resolveChecked(host, options.target);
        const answer = await post(webhook.url, body, headers, options.timeoutMs, { agents, discardBody: true });
        const outcome = classifyHttpStatus(answer.status, header(answer, 'retry-after'), request.now);
        return outcome.kind === 'delivered' ? outcome : { ...outcome, error: `http_${answer.status}` };
      } catch (err) {
        return webhookFailure(err);
      }
    },
  };
}

/** Our word for a send that got no HTTP answer. */
export function webhookFailure(err: unknown): SendOutcome {
  const e = err as { name?: string; code?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return { kind: 'retry', statusCode: null, error: 'timeout' };
  // A refused address stays refused: retrying would only probe it again.
  if (e.code === 'EREFUSEDADDRESS') return { kind: 'permanent', statusCode: null, error: 'refused_address' };
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return { kind: 'retry', statusCode: null, error: 'dns_failed' };
  return { kind: 'retry', statusCode: null, error: 'connection_failed' };
}

const OUR_WORDS =
  /^(http_\d{3}|timeout|connection_failed|dns_failed|refused_address|unreadable_event|subscription_not_found|subscription deleted|subscription disabled: .*)$/;

/**
 * A webhook delivery's error as the delivery log shows it: our own words. Rows written before
 * issue 17 (or by a replica not yet upgraded) may still hold a receiver's answer or a socket
 * error's text; they are shown as the word it stands for, never as written.
 */
export function webhookErrorWord(error: string | null): string | null {
  if (error === null || OUR_WORDS.test(error)) return error;
  const http = /^HTTP (\d{3})\b/.exec(error);
  if (http) return `http_${http[1]}`;
  return error.startsWith('timeout') ? 'timeout' : 'connection_failed';
}
