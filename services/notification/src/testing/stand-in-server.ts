import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// What every SMS vendor stand-in shares (alibaba-sms.ts, tencent-sms.ts): the HTTP side (the
// whole body read, then the vendor's `handle` — after `stall` ms when set, a vendor that does
// not answer), the record of what was sent and refused, and scripted flow control.

export interface SmsStandIn<Sent> {
  /** `http://127.0.0.1:<port>`: NOTIFY_SMS_ENDPOINT. */
  endpoint: string;
  readonly sent: Sent[];
  /** Every refusal, by code, in order. */
  readonly refused: string[];
  /** The next `n` messages are refused by flow control, as the vendor reports it. */
  throttle(n: number): void;
  /** Requests are held this long before they are answered (0: at once). */
  stall(ms: number): void;
  close(): Promise<void>;
}

/** What a vendor's `handle` writes to, and asks whether flow control refuses the message at hand. */
export interface SmsBook<Sent> {
  sent: Sent[];
  refused: string[];
  /** True (and counted) while scripted flow control still refuses messages. */
  throttled(): boolean;
}

export async function serveSmsStandIn<Sent>(
  handle: (req: IncomingMessage, body: Buffer, res: ServerResponse, book: SmsBook<Sent>) => void,
): Promise<SmsStandIn<Sent>> {
  const sent: Sent[] = [];
  const refused: string[] = [];
  let throttled = 0;
  const book: SmsBook<Sent> = {
    sent,
    refused,
    throttled() {
      if (throttled <= 0) return false;
      throttled -= 1;
      return true;
    },
  };
  let stallMs = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (stallMs > 0) setTimeout(() => !res.destroyed && handle(req, body, res, book), stallMs).unref();
      else handle(req, body, res, book);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    sent,
    refused,
    throttle: (n) => void (throttled = n),
    stall: (ms) => void (stallMs = ms),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
