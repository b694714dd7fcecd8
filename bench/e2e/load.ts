import { Agent, request } from 'node:http';
import { wallNow } from './kafka.ts';

// Open-loop load: request i is due at start + i/rate, whatever the server answered so far, so a
// slow server shows up as latency (measured from the due time, queueing in this client included)
// and not as a politely lower rate — no coordinated omission.

/** How many requests are due `elapsedMs` after the start (request 0 at once). */
export function dueCount(elapsedMs: number, ratePerSecond: number, total: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(total, Math.floor((elapsedMs * ratePerSecond) / 1000 + 1e-9) + 1);
}

export interface PostResult {
  /** HTTP status, or the network error code when no response came (ECONNRESET, timeout). */
  status: number | string;
  /** The work-order id of a 202. */
  id?: string;
  duplicate?: boolean;
  /** Due time → end of response (wall ms). */
  latencyMs: number;
  doneAt: number;
}

export interface Poster {
  post(body: unknown, dueAt: number): Promise<PostResult>;
  close(): void;
}

/** POSTs JSON over keep-alive connections; more requests than sockets wait in the agent (counted as latency). */
export function createPoster(url: string, apiKey: string, options: { maxSockets: number; timeoutMs: number }): Poster {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets });
  return {
    post(body, dueAt) {
      const payload = Buffer.from(JSON.stringify(body));
      return new Promise<PostResult>((resolve) => {
        const done = (status: number | string, id?: string, duplicate?: boolean) => {
          const doneAt = wallNow();
          resolve({ status, ...(id ? { id } : {}), ...(duplicate !== undefined ? { duplicate } : {}), latencyMs: doneAt - dueAt, doneAt });
        };
        const req = request(
          target,
          {
            method: 'POST',
            agent,
            timeout: options.timeoutMs,
            headers: { 'content-type': 'application/json', 'content-length': payload.length, authorization: `Bearer ${apiKey}` },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? 'response_error'));
            res.on('end', () => {
              const status = res.statusCode ?? 0;
              if (status !== 202) return done(status);
              try {
                const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown; duplicate?: unknown };
                done(status, typeof answer.id === 'string' ? answer.id : undefined, answer.duplicate === true);
              } catch {
                done('bad_202_body');
              }
            });
          },
        );
        req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
        req.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
        req.end(payload);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

export interface OpenLoopOptions {
  ratePerSecond: number;
  count: number;
  /** Wall ms of request 0. */
  startAt: number;
  /** Called for each request when it is due, with its index and due time. */
  send: (index: number, dueAt: number) => void;
  /** Called between sends, at most every `tickMs`. */
  onTick?: () => void;
  tickMs?: number;
  signal?: AbortSignal;
}

/** Sends `count` requests on the clock; resolves when the last one has been handed to `send`. */
export async function runOpenLoop(options: OpenLoopOptions): Promise<{ sent: number; lastSentAt: number }> {
  const { ratePerSecond, count, startAt, send } = options;
  const tickMs = options.tickMs ?? 1000;
  let sent = 0;
  let lastTick = wallNow();
  let lastSentAt = startAt;
  while (sent < count && !options.signal?.aborted) {
    const now = wallNow();
    const due = dueCount(now - startAt, ratePerSecond, count);
    while (sent < due) {
      send(sent, startAt + (sent * 1000) / ratePerSecond);
      sent += 1;
    }
    lastSentAt = wallNow();
    if (options.onTick && lastSentAt - lastTick >= tickMs) {
      lastTick = lastSentAt;
      options.onTick();
    }
    if (sent >= count) break;
    const nextAt = startAt + (sent * 1000) / ratePerSecond;
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(nextAt - wallNow(), 50))));
  }
  return { sent, lastSentAt };
}
