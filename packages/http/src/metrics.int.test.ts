import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, type Bus } from '@griddispatch/bus';
import { enqueueOutbox, migrate, withTransaction } from '@griddispatch/db';
import { createLogger } from '@griddispatch/observability';
import { createTestInProcessBus, freshDatabase, testGroupId, waitForIdle, type FreshDatabase } from '@griddispatch/testkit';
import { buildHttpHost } from './host.ts';
import { registerProbeGauge, registerServiceMetrics, type ServiceHandle } from './index.ts';

// Shared service metrics on one host, as the embedded start has them: two services, one bus,
// one registry; and a scrape that answers while the broker is away.

const logger = createLogger({ service: 'metrics-test', level: process.env.LOG_LEVEL ?? 'silent' });
let db: FreshDatabase;
let folder: string;

beforeAll(async () => {
  db = await freshDatabase('http_metrics');
  folder = await mkdtemp(join(tmpdir(), 'gd-metrics-'));
  await migrate(db.pool, { schema: 'svc_a', folder, logger });
  await migrate(db.pool, { schema: 'svc_b', folder, logger });
});
afterAll(async () => {
  await db?.drop();
  await rm(folder, { recursive: true, force: true });
});

function service(name: string, schema: string, bus: Bus, consumers: { group: string; topics: string[] }[]): ServiceHandle {
  return {
    name,
    start: async () => {},
    stop: async () => {},
    ready: async () => true,
    registerMetrics(registry) {
      registerServiceMetrics(registry, { service: name, pool: db.pool, schema, bus, consumers, logger, timeoutMs: 500 });
    },
  };
}

/** Prometheus' key: /metrics needs the metrics:read scope. */
const SCRAPER = 'prometheus-scraper-Hk3vQ9zLm2xP7';
const apiKeys = `prometheus:${SCRAPER}:metrics:read`;

async function scrape(app: FastifyInstance): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${SCRAPER}` } });
  expect(res.statusCode).toBe(200);
  return res.body;
}

/** The value of one series, or undefined when the scrape does not have it. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('registerServiceMetrics', () => {
  it('reports outbox backlog and consumer lag per service on one shared host', async () => {
    const bus = createTestInProcessBus();
    const groupA = testGroupId('a');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sub = await bus.subscribe({ groupId: groupA, topics: ['things'], handler: () => gate, concurrency: 1 });
    const app = await buildHttpHost({
      pool: db.pool,
      logger,
      services: [service('alpha', 'svc_a', bus, [{ group: groupA, topics: ['things', 'other'] }]), service('beta', 'svc_b', bus, [])],
      apiKeys,
      rateLimit: false,
    });
    try {
      await withTransaction(db.pool, (client) =>
        enqueueOutbox(client, 'svc_a', [
          { topic: 'things', key: 'k1', value: '1' },
          { topic: 'things', key: 'k2', value: '2' },
        ]),
      );
      await bus.publish('things', [
        { key: 'same', value: 'a' },
        { key: 'same', value: 'b' },
        { key: 'same', value: 'c' },
      ]);

      const during = await scrape(app);
      expect(value(during, 'griddispatch_outbox_backlog{service="alpha"}')).toBe(2);
      expect(value(during, 'griddispatch_outbox_backlog{service="beta"}')).toBe(0);
      expect(value(during, 'griddispatch_outbox_oldest_seconds{service="alpha"}')).toBeGreaterThanOrEqual(0);
      expect(value(during, 'griddispatch_outbox_oldest_seconds{service="beta"}')).toBe(0);
      expect(value(during, `griddispatch_consumer_lag{service="alpha",group="${groupA}",topic="things"}`)).toBe(3);
      // A subscribed topic with nothing on it shows 0 rather than nothing.
      expect(value(during, `griddispatch_consumer_lag{service="alpha",group="${groupA}",topic="other"}`)).toBe(0);
      expect(value(during, 'griddispatch_consumer_lag_available{service="alpha"}')).toBe(1);

      release();
      await waitForIdle(bus);
      await db.pool.query('DELETE FROM svc_a.outbox');
      const after = await scrape(app);
      expect(value(after, `griddispatch_consumer_lag{service="alpha",group="${groupA}",topic="things"}`)).toBe(0);
      expect(value(after, 'griddispatch_outbox_backlog{service="alpha"}')).toBe(0);
    } finally {
      await app.close();
      await sub.stop();
      await bus.close();
    }
  });

  it('answers within the timeout when the broker is away, leaving the lag out and saying so', async () => {
    // A port nothing listens on: every connection attempt is refused, kafkajs keeps retrying.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const bus = createKafkaBus({ brokers: [`127.0.0.1:${port}`], prefix: 'nowhere.', clientId: 'metrics-test', logger });
    const app = await buildHttpHost({
      pool: db.pool,
      logger,
      services: [service('alpha', 'svc_a', bus, [{ group: 'g', topics: ['things'] }])],
      apiKeys,
      rateLimit: false,
    });
    try {
      for (let i = 0; i < 2; i += 1) {
        const started = Date.now();
        const text = await scrape(app);
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(value(text, 'griddispatch_consumer_lag_available{service="alpha"}')).toBe(0);
        expect(text).not.toMatch(/^griddispatch_consumer_lag\{/m);
        expect(value(text, 'griddispatch_outbox_backlog{service="alpha"}')).toBe(0);
      }
    } finally {
      await app.close();
      await bus.close();
    }
  });
});

describe('registerProbeGauge', () => {
  it('leaves a gauge out of the scrape while its query fails, and shows it again once it answers', async () => {
    let table = 'no_such_table';
    const app = await buildHttpHost({
      pool: db.pool,
      logger,
      services: [
        {
          name: 'probe',
          start: async () => {},
          stop: async () => {},
          ready: async () => true,
          registerMetrics(registry) {
            registerProbeGauge(registry, {
              name: 'griddispatch_test_rows',
              help: 'rows',
              labelNames: ['kind'] as const,
              read: async () => {
                const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
                return [{ labels: { kind: 'all' }, value: rows[0]!.n }];
              },
            });
          },
        },
      ],
      apiKeys,
      rateLimit: false,
    });
    try {
      const failing = await scrape(app);
      expect(failing).not.toMatch(/^griddispatch_test_rows\{/m);
      expect(failing).toMatch(/^process_cpu_seconds_total /m);
      table = 'svc_a.inbox';
      expect(value(await scrape(app), 'griddispatch_test_rows{kind="all"}')).toBe(0);
    } finally {
      await app.close();
    }
  });
});
