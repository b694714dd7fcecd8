import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

// An integrator's endpoint: verifies the Standard Webhooks signature of every POST with the
// subscription's secret (standardwebhooks library), answers 200 to a valid one and 401 to
// anything else, and keeps what it got.

export interface Delivery {
  webhookId: string;
  body: string;
  /** The W3C trace context the sender passed on, if any. */
  traceparent: string | undefined;
  verified: boolean;
  error?: string;
}

export interface WebhookReceiver {
  url: string;
  readonly deliveries: Delivery[];
  /** The secret returned by POST /v1/subscriptions (`whsec_…`). */
  setSecret(secret: string): void;
  /** Resolves once `count` verified deliveries arrived; rejects after `timeoutMs`. */
  waitForVerified(count: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const deliveries: Delivery[] = [];
  let webhook: Webhook | null = null;
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const delivery: Delivery = { webhookId: headers['webhook-id'] ?? '', body, traceparent: headers.traceparent, verified: false };
      try {
        if (!webhook) throw new Error('no secret yet');
        webhook.verify(body, headers);
        delivery.verified = true;
      } catch (err) {
        delivery.error = (err as Error).message;
      }
      deliveries.push(delivery);
      for (const w of waiters) w();
      res.writeHead(delivery.verified ? 200 : 401, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/grid-dispatch/events`,
    deliveries,
    setSecret(secret) {
      webhook = new Webhook(secret);
    },
    waitForVerified(count, timeoutMs) {
      const verified = () => deliveries.filter((d) => d.verified).length;
      if (verified() >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (verified() < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`webhook: ${verified()} of ${count} verified deliveries after ${timeoutMs} ms (${deliveries.length} received)`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
