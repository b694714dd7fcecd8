import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTelemetry, type Telemetry } from './telemetry.ts';
import { currentTraceparent } from './tracing.ts';

// With an exporter configured (the standard OTEL_* variables, OTLP over http/json to a local
// receiver standing in for a collector): the HTTP instrumentation is on, a request opens a server
// span that continues the caller's trace, and the span reaches the receiver with the service name.

interface ExportedSpan {
  traceId: string;
  name: string;
  kind: number;
}
interface ExportRequest {
  resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: ExportedSpan[] }[] }[];
}

const received: ExportRequest[] = [];
let collector: Server;
let server: Server;
let telemetry: Telemetry;

function listen(s: Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => resolve(text));
  });
}

beforeAll(async () => {
  collector = createServer(async (req, res) => {
    const text = await body(req);
    if (req.url === '/v1/traces') received.push(JSON.parse(text) as ExportRequest);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  const collectorPort = await listen(collector);
  Object.assign(process.env, {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
  });
  telemetry = await startTelemetry({ serviceName: 'otlp-test' });
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => setImmediate(() => res.end(JSON.stringify({ traceparent: currentTraceparent() ?? null }))));
  });
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await new Promise((resolve) => collector?.close(resolve));
  for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_METRICS_EXPORTER', 'OTEL_LOGS_EXPORTER']) delete process.env[name];
});

it('instruments http and exports the server span to the OTLP endpoint', async () => {
  expect(telemetry.exporting).toBe(true);
  const port = await listen(server);
  const answer = await new Promise<{ traceparent: string | null }>((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path: '/v1/requests', method: 'POST', headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } },
      (res) => {
        void body(res).then((text) => resolve(JSON.parse(text) as { traceparent: string | null }));
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
  expect(answer.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);

  await telemetry.shutdown(); // flushes the batch
  const spans = received.flatMap((r) => r.resourceSpans.map((rs) => ({ rs, spans: rs.scopeSpans.flatMap((s) => s.spans) })));
  const server_ = spans.flatMap(({ rs, spans: list }) =>
    list.map((span) => ({ span, service: rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue })),
  );
  const mine = server_.filter(({ span }) => span.traceId === '0af7651916cd43dd8448eb211c80319c');
  expect(mine).toHaveLength(1);
  expect(mine[0]).toMatchObject({ service: 'otlp-test', span: { kind: 2 } }); // SPAN_KIND_SERVER
});
