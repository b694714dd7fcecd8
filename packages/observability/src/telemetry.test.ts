import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactQuery, startTelemetry, type Telemetry } from './telemetry.ts';
import { currentTraceparent, traceHeaders, withConsumerSpan } from './tracing.ts';

// The SDK as a service process starts it (no OTLP endpoint: nothing exported): an HTTP request
// gets a server span whose context the handler sees, and a Kafka consumer continues the trace.

const traceId = (traceparent: string | undefined) => traceparent?.split('-')[1];

let telemetry: Telemetry;
let server: Server;
let port: number;

beforeAll(async () => {
  telemetry = await startTelemetry({ serviceName: 'telemetry-test', env: {} });
  server = createServer((req, res) => {
    // Like Fastify: the handler answers after the body arrived, in a later tick.
    req.resume();
    req.on('end', () =>
      setImmediate(() => {
        // What the exporter would get: the server span's attributes (an SDK span has them).
        const span = trace.getActiveSpan() as unknown as { attributes?: Record<string, unknown> } | undefined;
        res.end(JSON.stringify({ traceparent: currentTraceparent() ?? null, query: span?.attributes?.['url.query'] ?? null }));
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await telemetry?.shutdown();
});

function call(path: string, headers: Record<string, string> = {}): Promise<{ traceparent: string | null; query?: string | null }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(JSON.parse(body) as { traceparent: string | null }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe('startTelemetry without an OTLP endpoint', () => {
  it('does not export', () => {
    expect(telemetry.exporting).toBe(false);
  });

  it('opens a sampled server span per request, a new trace for each', async () => {
    const a = await call('/v1/requests');
    const b = await call('/v1/requests');
    expect(a.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(traceId(a.traceparent ?? undefined)).not.toBe(traceId(b.traceparent ?? undefined));
  });

  it("continues the caller's traceparent", async () => {
    const { traceparent } = await call('/v1/requests', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(traceId(traceparent ?? undefined)).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(traceparent).not.toContain('b7ad6b7169203331');
  });

  it('records url.query with keys and tokens redacted', async () => {
    const { query } = await call('/open311/v2/requests.json?service_code=billing&api_key=gdk_secret123&Token=gdst_abc');
    expect(query).toBe('service_code=billing&api_key=REDACTED&Token=REDACTED');
    expect(redactQuery('key=a&key=b&gridId=G1')).toBe('key=REDACTED&gridId=G1');
  });

  it('leaves health and metrics probes untraced', async () => {
    expect((await call('/readyz')).traceparent).toBeNull();
    expect((await call('/metrics')).traceparent).toBeNull();
  });

  it('continues a trace from Kafka headers in a consumer span, and passes it on', async () => {
    const incoming = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
    const outgoing = await withConsumerSpan('test consume', incoming, async () => traceHeaders());
    expect(traceId(outgoing.traceparent)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(outgoing.traceparent).not.toBe(incoming.traceparent);
  });
});
