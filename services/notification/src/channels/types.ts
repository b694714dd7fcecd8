// What every channel module shares: the message a delivery row carries, and the outcome of one
// send attempt. A channel classifies its own transport's answers (a WeCom errcode, an HTTP status)
// into six outcomes; the delivery worker turns outcomes into retries, dead letters and disabled
// subscriptions, so the retry rules live in one place (delivery/retry-policy.ts).

export type ChannelName = 'webhook' | 'wecom' | 'sms' | 'log';

export const CHANNELS: readonly ChannelName[] = ['webhook', 'wecom', 'sms', 'log'];

/** What is stored in a delivery row's `payload`, rendered when the delivery is recorded. */
export type DeliveryPayload =
  | { channel: 'webhook'; eventId: string; body: string }
  | { channel: 'wecom'; url: string; markdown: string }
  | { channel: 'sms'; templateId: string | null; params: Record<string, string>; text: string }
  | { channel: 'log'; text: string };

export type SendOutcome =
  | { kind: 'delivered'; statusCode: number | null }
  /** Transient (5xx, timeout, 429, rate limit): try again later; `retryAfterMs` when the peer said when. */
  | { kind: 'retry'; statusCode: number | null; error: string; retryAfterMs?: number }
  /** Will never succeed as sent (other 4xx, invalid phone number, WeCom errcode). */
  | { kind: 'permanent'; statusCode: number | null; error: string }
  /** The receiver is gone for good (HTTP 410): the subscription is disabled. */
  | { kind: 'gone'; statusCode: number; error: string }
  /**
   * The SMS vendor refused our own configuration — the account key, the signature (签名), the
   * balance (`scope: 'channel'`: every message fails alike) or the template of this message kind
   * (`scope: 'template'`: every message of the kind) — until an operator fixes it. Not one
   * message's fault: kept and retried like `retry`, and the worker holds what the refusal covers.
   */
  | { kind: 'disabled'; statusCode: number | null; error: string; scope: 'channel' | 'template' }
  /** Written to the log instead of sent (no SMS vendor or robot configured): never `delivered`. */
  | { kind: 'logged'; statusCode: null };

/** Everything one send needs; the worker fills it from the delivery row (and its subscription). */
export interface SendRequest {
  deliveryId: string;
  recipient: string;
  payload: DeliveryPayload;
  /** Webhook target, signing secret and whether its key may see personal data, from the subscription at send time. */
  webhook?: { url: string; secret: string; piiRead: boolean };
  /** The worker's clock: signatures carry this time. */
  now: Date;
}

export interface Channel {
  readonly name: ChannelName;
  send(request: SendRequest): Promise<SendOutcome>;
  /** The rate bucket a send to `recipient` counts against within the channel's limit. Unset: one bucket for the channel. */
  rateBucket?(recipient: string): string;
  /** What a vendor's `scope: 'template'` refusal of this payload holds besides it (the worker's channel-health.ts). Unset: nothing. */
  templateOf?(payload: DeliveryPayload): string | null;
}
