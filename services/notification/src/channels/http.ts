import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

// The one way channels talk HTTP: node:http with keep-alive agents (a fraction of fetch's cost
// per request at thousands of deliveries a second), a hard timeout on the whole exchange, no
// redirects followed (a receiver answers at the URL it registered), and a bounded read of the
// answer (it only matters for error details and WeCom's errcode).

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const MAX_BODY_BYTES = 64 * 1024;

export interface Agents {
  'http:': HttpAgent;
  'https:': HttpsAgent;
}

/** Keep-alive agents; `lookup` replaces the system resolver (webhooks: the address check, webhook-target.ts). */
export function createAgents(lookup?: LookupFunction): Agents {
  const options = { keepAlive: true, maxSockets: 64, maxFreeSockets: 64, ...(lookup ? { lookup } : {}) };
  return { 'http:': new HttpAgent(options), 'https:': new HttpsAgent(options) };
}

/** The staff channels' agents (operator-configured gateways and robots). */
const sharedAgents = createAgents();

export interface PostOptions {
  agents?: Agents;
  /** Do not keep the answer's body (webhooks: a receiver's page is none of our business). */
  discardBody?: boolean;
}

/** Thrown when the exchange did not finish within the timeout. */
export class HttpTimeoutError extends Error {
  override name = 'TimeoutError';
}

/** POSTs `body`; resolves with any HTTP answer, rejects only when there was none (timeout, network). */
export function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number, options: PostOptions = {}): Promise<HttpAnswer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const agents = options.agents ?? sharedAgents;
  const agent = target.protocol === 'https:' ? agents['https:'] : agents['http:'];
  const payload = Buffer.from(body, 'utf8');
  return new Promise((resolve, reject) => {
    const req = send(target, { method: 'POST', agent, headers: { ...headers, 'content-length': String(payload.length) } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (options.discardBody || size >= MAX_BODY_BYTES) return;
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8') });
      });
      res.on('error', fail);
    });
    const timer = setTimeout(() => req.destroy(new HttpTimeoutError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    function fail(err: Error) {
      clearTimeout(timer);
      reject(err);
    }
    req.on('error', fail);
    req.end(payload);
  });
}

/** A header of the answer as one string (or null). */
export function header(answer: HttpAnswer, name: string): string | null {
  const v = answer.headers[name.toLowerCase()];
  if (v === undefined) return null;
  return Array.isArray(v) ? (v[0] ?? null) : v;
}

/** Short error text from an answer body, for the delivery log (never the whole page). */
export function errorDetail(answer: HttpAnswer): string {
  const text = answer.body.replace(/\s+/g, ' ').trim();
  return text ? `HTTP ${answer.status}: ${text.slice(0, 200)}` : `HTTP ${answer.status}`;
}
