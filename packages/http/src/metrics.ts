import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Bus, ConsumerLag } from '@griddispatch/bus';
import type { Logger } from '@griddispatch/observability';

/**
 * A registry per host (tests build many hosts in one process; prom-client's global registry
 * would refuse the second `http_request_duration_seconds`). Services add their own metrics to
 * the same registry through `ServiceHandle.registerMetrics`.
 */
export function createMetricsRegistry(options: { defaultMetrics?: boolean; labels?: Record<string, string> } = {}): Registry {
  const registry = new Registry();
  if (options.labels) registry.setDefaultLabels(options.labels);
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

export function instrumentHttp(app: FastifyInstance, registry: Registry): void {
  const histogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    histogram.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}

/** How long a scrape waits for one probe (a query, the broker) before leaving its series out. */
export const DEFAULT_PROBE_TIMEOUT_MS = 2_000;

export interface ProbeSample<L extends string = string> {
  labels?: Partial<Record<L, string>>;
  value: number;
}

export interface ProbeOptions {
  /** Default DEFAULT_PROBE_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Where a failing probe is reported (once when it starts failing, once when it recovers). */
  logger?: Logger;
}

/**
 * Runs `read` at most once at a time: callers arriving while it runs share its answer, so the
 * gauges of one scrape (and, in embedded mode, several services on one bus) make one query.
 * `maxAgeMs` (default 0) keeps answering from a finished read that long. A read that outlives
 * `timeoutMs` rejects for the caller but keeps running; the next call joins it instead of
 * starting another, so a broker or database that hangs gets one request, not one per scrape.
 */
export function sharedProbe<T>(read: () => Promise<T>, options: { timeoutMs?: number; maxAgeMs?: number } = {}): () => Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const maxAgeMs = options.maxAgeMs ?? 0;
  let inFlight: Promise<T> | undefined;
  let last: { at: number; value: T } | undefined;
  return async () => {
    if (last && Date.now() - last.at < maxAgeMs) return last.value;
    if (!inFlight) {
      const started = read().then((value) => {
        last = { at: Date.now(), value };
        return value;
      });
      inFlight = started;
      // Cleared whichever way it ends; a late rejection is nobody's unhandled error.
      started.then(
        () => (inFlight = inFlight === started ? undefined : inFlight),
        () => (inFlight = inFlight === started ? undefined : inFlight),
      );
    }
    return withTimeout(inFlight, timeoutMs);
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Logs a probe's failure once, and its recovery, instead of once per scrape. */
function failureReporter(what: string, logger: Logger | undefined): { ok(): void; failed(err: unknown): void } {
  let failing = false;
  return {
    ok() {
      if (failing) logger?.info({ probe: what }, 'metrics probe answers again');
      failing = false;
    },
    failed(err) {
      if (!failing) logger?.warn({ err, probe: what }, 'metrics probe failed; its series are left out of /metrics until it answers');
      failing = true;
    },
  };
}

/**
 * A gauge read at scrape time (a count query, say). When `read` fails or does not answer within
 * the timeout, the gauge's series are left out of that scrape — a scrape never hangs on a
 * database or broker that is away, and never shows a stale value as current.
 */
export function registerProbeGauge<L extends string>(
  registry: Registry,
  options: ProbeOptions & { name: string; help: string; labelNames?: readonly L[]; read: () => Promise<ProbeSample<L>[]> },
): Gauge<L> {
  const probe = sharedProbe(options.read, { timeoutMs: options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS });
  const report = failureReporter(options.name, options.logger);
  return new Gauge<L>({
    name: options.name,
    help: options.help,
    labelNames: options.labelNames ?? [],
    registers: [registry],
    async collect() {
      let samples: ProbeSample<L>[];
      try {
        samples = await probe();
        report.ok();
      } catch (err) {
        report.failed(err);
        this.reset();
        return;
      }
      this.reset();
      for (const s of samples) {
        if (s.labels) this.set(s.labels, s.value);
        else this.set(s.value);
      }
    },
  });
}

export interface ServiceMetricsOptions extends ProbeOptions {
  /** Value of the `service` label. */
  service: string;
  pool: Pool;
  /** The service's schema: `<schema>.outbox` holds what its relay has not published yet. */
  schema: string;
  bus: Pick<Bus, 'consumerLag'>;
  /** The consumer groups this service subscribes with and their topics (as given to `bus.subscribe`). */
  consumers: readonly { group: string; topics: readonly string[] }[];
}

interface ServiceSource {
  options: ServiceMetricsOptions;
  outbox: () => Promise<{ backlog: number; oldestSeconds: number }>;
  lag: () => Promise<ConsumerLag[]>;
  outboxReport: ReturnType<typeof failureReporter>;
  lagReport: ReturnType<typeof failureReporter>;
}

/** One set of shared gauges per registry; each service adds itself as a source. */
const sourcesByRegistry = new WeakMap<Registry, ServiceSource[]>();
/** One lag probe per bus: in embedded mode four services share one bus and one scrape. */
const lagProbes = new WeakMap<object, () => Promise<ConsumerLag[]>>();

/**
 * The metrics every service has, under the same names with a `service` label (so one alert rule
 * or dashboard panel covers all four, and the embedded host shows them side by side):
 * `griddispatch_outbox_backlog`, `griddispatch_outbox_oldest_seconds`,
 * `griddispatch_consumer_lag{group,topic}` and `griddispatch_consumer_lag_available`.
 * Call it from `registerMetrics`; several services may share a registry.
 */
export function registerServiceMetrics(registry: Registry, options: ServiceMetricsOptions): void {
  let sources = sourcesByRegistry.get(registry);
  if (!sources) {
    sources = [];
    sourcesByRegistry.set(registry, sources);
    createServiceGauges(registry, sources);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const table = `"${options.schema.replace(/"/g, '""')}".outbox`;
  let lag = lagProbes.get(options.bus);
  if (!lag) {
    const bus = options.bus;
    lag = sharedProbe(() => bus.consumerLag(), { timeoutMs });
    lagProbes.set(options.bus, lag);
  }
  sources.push({
    options,
    outbox: sharedProbe(
      async () => {
        const { rows } = await options.pool.query<{ n: number; age: number | null }>(
          `SELECT count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS age FROM ${table}`,
        );
        return { backlog: rows[0]?.n ?? 0, oldestSeconds: Math.max(0, rows[0]?.age ?? 0) };
      },
      { timeoutMs },
    ),
    lag,
    outboxReport: failureReporter(`${options.service} outbox`, options.logger),
    lagReport: failureReporter(`${options.service} consumer lag`, options.logger),
  });
}

function createServiceGauges(registry: Registry, sources: ServiceSource[]): void {
  async function outboxes() {
    return Promise.all(
      sources.map(async (s) => {
        try {
          const value = await s.outbox();
          s.outboxReport.ok();
          return { service: s.options.service, value };
        } catch (err) {
          s.outboxReport.failed(err);
          return null;
        }
      }),
    );
  }
  new Gauge({
    name: 'griddispatch_outbox_backlog',
    help: 'Outbox rows (events committed with their state) not yet published to the bus, by service',
    labelNames: ['service'] as const,
    registers: [registry],
    async collect() {
      const all = await outboxes();
      this.reset();
      for (const o of all) if (o) this.set({ service: o.service }, o.value.backlog);
    },
  });
  new Gauge({
    name: 'griddispatch_outbox_oldest_seconds',
    help: 'Age of the oldest unpublished outbox row (0 when the outbox is empty), by service',
    labelNames: ['service'] as const,
    registers: [registry],
    async collect() {
      const all = await outboxes();
      this.reset();
      for (const o of all) if (o) this.set({ service: o.service }, o.value.oldestSeconds);
    },
  });

  async function lags() {
    return Promise.all(
      sources.map(async (s) => {
        try {
          const all = await s.lag();
          s.lagReport.ok();
          return { source: s, lags: all };
        } catch (err) {
          s.lagReport.failed(err);
          return { source: s, lags: null };
        }
      }),
    );
  }
  new Gauge({
    name: 'griddispatch_consumer_lag',
    help: 'Records on a topic not yet handled by the consumer group (summed over partitions), by service, group and topic',
    labelNames: ['service', 'group', 'topic'] as const,
    registers: [registry],
    async collect() {
      const all = await lags();
      this.reset();
      for (const { source, lags: rows } of all) {
        if (!rows) continue;
        const service = source.options.service;
        const sums = new Map<string, number>();
        const key = (group: string, topic: string) => JSON.stringify([group, topic]);
        // A running group's topics all show, at 0 until a record is behind; a group that is not
        // subscribed (stopped, not yet joined) is not in the bus's answer and shows nothing.
        const running = new Set(rows.map((l) => l.groupId));
        for (const c of source.options.consumers) {
          if (running.has(c.group)) for (const topic of c.topics) sums.set(key(c.group, topic), 0);
        }
        for (const l of rows) {
          const k = key(l.groupId, l.topic);
          const sum = sums.get(k);
          if (sum !== undefined) sums.set(k, sum + l.lag);
        }
        for (const [k, lag] of sums) {
          const [group, topic] = JSON.parse(k) as [string, string];
          this.set({ service, group, topic }, lag);
        }
      }
    },
  });
  new Gauge({
    name: 'griddispatch_consumer_lag_available',
    help: '1 when the bus answered the consumer-lag query within the scrape timeout, else 0 (lag series are then left out)',
    labelNames: ['service'] as const,
    registers: [registry],
    async collect() {
      const all = await lags();
      this.reset();
      for (const { source, lags: rows } of all) this.set({ service: source.options.service }, rows ? 1 : 0);
    },
  });
}
