import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { startReceiver, type Receiver } from '@griddispatch/notification/testing/receiver';

// The integrator's end of a webhook subscription: a real HTTP server that records every delivery
// by its `webhook-id` (the CloudEvent id, the same on every retry) and answers as the scenario
// wants — at once, after several seconds (slow, for a spell), or 500 (failing, for a spell).

/** `untilMs`: wall-clock end of the slow or failing spell; the receiver answers at once after it. */
export type SinkMode = { kind: 'ok' } | { kind: 'slow'; delayMs: number; untilMs: number } | { kind: 'failing'; untilMs: number };

export interface WebhookRecord {
  id: string;
  type: string;
  workOrderId: string | null;
  /** Every request with this webhook-id. */
  arrivals: number;
  /** Requests answered 2xx (the integrator took the event). */
  accepted: number;
  /** Requests answered 500 (the failing receiver). */
  refused: number;
  badSignatures: number;
}

export interface WebhookSink {
  url: string;
  setSecret(secret: string): void;
  setMode(mode: SinkMode): void;
  readonly byId: Map<string, WebhookRecord>;
  /** Requests still being answered (slow mode). */
  pending(): number;
  close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  const byId = new Map<string, WebhookRecord>();
  let mode: SinkMode = { kind: 'ok' };
  let verifier: Webhook | null = null;
  let pending = 0;
  const receiver: Receiver = await startReceiver(async (request) => {
    pending += 1;
    try {
      const id = request.headers['webhook-id'] ?? '(none)';
      let record = byId.get(id);
      if (!record) {
        let type = '?';
        let workOrderId: string | null = null;
        try {
          const event = JSON.parse(request.body) as { type?: string; subject?: string; data?: { workOrderId?: string } };
          type = event.type ?? '?';
          workOrderId = event.data?.workOrderId ?? event.subject ?? null;
        } catch {
          type = 'unparseable';
        }
        record = { id, type, workOrderId, arrivals: 0, accepted: 0, refused: 0, badSignatures: 0 };
        byId.set(id, record);
      }
      record.arrivals += 1;
      try {
        verifier?.verify(request.body, request.headers);
      } catch {
        record.badSignatures += 1;
      }
      const current = mode;
      if (current.kind === 'failing' && Date.now() < current.untilMs) {
        record.refused += 1;
        return { status: 500, body: '{"error":"receiver down for maintenance"}' };
      }
      if (current.kind === 'slow' && Date.now() < current.untilMs) await sleep(current.delayMs);
      record.accepted += 1;
      return { status: 200, body: '{}' };
    } finally {
      pending -= 1;
    }
  });
  return {
    url: receiver.url,
    setSecret(secret) {
      verifier = new Webhook(secret);
    },
    setMode(m) {
      mode = m;
    },
    byId,
    pending: () => pending,
    close: () => receiver.close(),
  };
}
