import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// The HTTP side every vendor stand-in shares (alibaba-sms.ts, tencent-sms.ts): the whole body
// read, then the vendor's `handle` — after `stall` ms when set, a vendor that does not answer.

export interface StandInServer {
  endpoint: string;
  stall(ms: number): void;
  close(): Promise<void>;
}

export async function serveStandIn(handle: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void): Promise<StandInServer> {
  let stallMs = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (stallMs > 0) setTimeout(() => !res.destroyed && handle(req, body, res), stallMs).unref();
      else handle(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stall: (ms) => void (stallMs = ms),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
