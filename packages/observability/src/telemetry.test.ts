import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactQuery, startTelemetry, type Telemetry } from './telemetry.ts';
import { currentTraceparent, traceHeaders, withConsumerSpan, withRequestTrace } from './tracing.ts';

// The SDK as a service process starts it without an exporter: nothing exported and nothing
// instrumented (a plain `http` server sees no span), yet a request handled through
// `withRequestTrace` (what the host does) gets a trace, and a Kafka consumer continues it.
// With an exporter: telemetry.otlp.test.ts.

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

describe('startTelemetry without an exporter', () => {
  it('does not export', () => {
    expect(telemetry.exporting).toBe(false);
  });

  it('does not instrument http: a plain server sees no span, whatever the caller sends', async () => {
    expect((await call('/v1/requests')).traceparent).toBeNull();
    expect((await call('/v1/requests', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })).traceparent).toBeNull();
  });

  it('gives each request handled through withRequestTrace a new sampled trace', () => {
    const a = withRequestTrace({}, () => currentTraceparent());
    const b = withRequestTrace({}, () => currentTraceparent());
    expect(a).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(traceId(a)).not.toBe(traceId(b));
  });

  it("continues the caller's traceparent with a span id of its own", () => {
    const traceparent = withRequestTrace({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }, () => currentTraceparent());
    expect(traceId(traceparent)).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(traceparent).not.toContain('b7ad6b7169203331');
    // A malformed header starts a new trace rather than failing the request.
    expect(withRequestTrace({ traceparent: 'garbage' }, () => currentTraceparent())).toMatch(/^00-[0-9a-f]{32}-/);
  });

  it('leaves a span that is already active alone', async () => {
    const incoming = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
    await withConsumerSpan('outer', incoming, async () => {
      const outer = currentTraceparent();
      expect(withRequestTrace({}, () => currentTraceparent())).toBe(outer);
    });
  });

  it('redacts keys and tokens in a query string (what traces record as url.query)', () => {
    expect(redactQuery('service_code=billing&api_key=gdk_secret123&Token=gdst_abc')).toBe('service_code=billing&api_key=REDACTED&Token=REDACTED');
    expect(redactQuery('key=a&key=b&gridId=G1')).toBe('key=REDACTED&gridId=G1');
  });

  it('continues a trace from Kafka headers in a consumer span, and passes it on', async () => {
    const incoming = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
    const outgoing = await withConsumerSpan('test consume', incoming, async () => traceHeaders());
    expect(traceId(outgoing.traceparent)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(outgoing.traceparent).not.toBe(incoming.traceparent);
  });
});
