import { classifyHttpStatus, networkFailure } from '../delivery/retry-policy.ts';
import { errorDetail, header, post } from './http.ts';
import { smsRecipient } from './phone.ts';
import { isSmsKind } from '../templates/sms-kinds.ts';
import type { SmsTemplates } from './sms-templates.ts';
import type { Channel, SendOutcome, SendRequest } from './types.ts';

// SMS through a generic HTTP gateway (the station's SMS platform, or a relay in front of a cloud
// SMS service). One JSON POST per message:
//   { "to": "+8613800138000", "kind": "dispatch.assigned", "templateId": "SMS_123" | null, "params": {...}, "text": "…" }
// with the configured auth header and `idempotency-key: <delivery id>` — the same on every retry
// of one message, so a gateway that honours it sends a message once even when notification dies
// between the gateway's answer and writing it down (docs/architecture.md#telling-the-customers,
// crash window). `templateId` is NOTIFY_SMS_TEMPLATES' code for the message
// kind, null when unmapped (a gateway can always send the text). 2xx means accepted; 5xx, 408,
// 429 are retried; other 4xx and numbers that are not mainland mobiles fail for good (resending
// will not make them valid).

export interface SmsGatewayOptions {
  url: string;
  /** e.g. `{ name: 'authorization', value: 'Bearer …' }`. */
  authHeader?: { name: string; value: string };
  templates: SmsTemplates;
  timeoutMs: number;
}

export function createSmsGatewayChannel(options: SmsGatewayOptions): Channel {
  // Rows recorded before message kinds existed carry the gateway's template id itself: kept as is.
  const codeOf = (kind: string | null): string | null => (kind === null ? null : isSmsKind(kind) ? (options.templates[kind]?.code ?? null) : kind);
  return {
    name: 'sms',
    async send(request: SendRequest): Promise<SendOutcome> {
      const target = smsRecipient(request);
      if ('refused' in target) return target.refused;
      const { payload, to } = target;
      const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': request.deliveryId };
      if (options.authHeader) headers[options.authHeader.name] = options.authHeader.value;
      const body = JSON.stringify({ to, kind: payload.templateId, templateId: codeOf(payload.templateId), params: payload.params, text: payload.text });
      try {
        const answer = await post(options.url, body, headers, options.timeoutMs);
        const outcome = classifyHttpStatus(answer.status, header(answer, 'retry-after'), request.now);
        // 410 from a gateway is just another client error: there is no subscription to disable.
        if (outcome.kind === 'gone') return { kind: 'permanent', statusCode: answer.status, error: errorDetail(answer) };
        return outcome.kind === 'delivered' ? outcome : { ...outcome, error: errorDetail(answer) };
      } catch (err) {
        return networkFailure(err);
      }
    },
  };
}
