import type { Pool } from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Bus } from '@griddispatch/bus';
import { registerProbeGauge, registerServiceMetrics } from '@griddispatch/http';
import type { Logger } from '@griddispatch/observability';
import { BOARD_OPEN_STATUSES } from './board/board-view.ts';
import { READ_MODEL_TOPICS } from './consumers/consume.ts';
import { SCHEMA } from './schema.ts';

export interface IntakeMetricsDeps {
  pool: Pool;
  bus: Bus;
  logger: Logger;
  /** The read model's consumer group (its lag). */
  groupId: string;
  /** Dispatch-board event streams open on this replica. */
  boardStreams: () => number;
}

/**
 * intake's metrics (docs/architecture.md#observability): counters the request paths feed, and
 * gauges read when /metrics is scraped. `register` adds them all to the host's registry.
 */
export function intakeMetrics(deps: IntakeMetricsDeps) {
  const requestsTotal = new Counter({
    name: 'griddispatch_intake_requests_total',
    help: 'Requests accepted (stored, 202) or recognised as retries of one already stored (duplicate), by channel',
    labelNames: ['channel', 'result'] as const,
    registers: [],
  });
  const meterEventsTotal = new Counter({
    name: 'griddispatch_intake_meter_events_total',
    help: 'Meter events stored and published (accepted), or recognised by (source, eventId) as stored before (duplicate)',
    labelNames: ['result'] as const,
    registers: [],
  });

  return {
    accepted(channel: string, duplicate: boolean): void {
      requestsTotal.inc({ channel, result: duplicate ? 'duplicate' : 'accepted' });
    },
    meterEvents(accepted: number, duplicates: number): void {
      meterEventsTotal.inc({ result: 'accepted' }, accepted);
      meterEventsTotal.inc({ result: 'duplicate' }, duplicates);
    },
    register(registry: Registry): void {
      // Outbox backlog and the read model's consumer lag, under the names every service uses.
      registerServiceMetrics(registry, {
        service: 'intake',
        pool: deps.pool,
        schema: SCHEMA,
        bus: deps.bus,
        consumers: [{ group: deps.groupId, topics: READ_MODEL_TOPICS }],
        logger: deps.logger,
      });
      registry.registerMetric(requestsTotal);
      registry.registerMetric(meterEventsTotal);
      registerProbeGauge(registry, {
        name: 'griddispatch_intake_work_orders_open',
        help: 'Open work orders (received … arrived, suspended) by status',
        labelNames: ['status'] as const,
        logger: deps.logger,
        async read() {
          // Spelled out (constants), so PostgreSQL matches requests_open_idx's predicate.
          const { rows } = await deps.pool.query<{ status: string; n: number }>(
            `SELECT status, count(*)::int AS n FROM intake.requests WHERE status IN (${BOARD_OPEN_STATUSES.map((st) => `'${st}'`).join(', ')}) GROUP BY status`,
          );
          const byStatus = new Map<string, number>(BOARD_OPEN_STATUSES.map((s) => [s, 0]));
          for (const r of rows) byStatus.set(r.status, r.n);
          return [...byStatus].map(([status, value]) => ({ labels: { status }, value }));
        },
      });
      new Gauge({
        name: 'griddispatch_intake_board_streams',
        help: 'dispatch-board event streams (SSE) open on this replica',
        registers: [registry],
        collect() {
          this.set(deps.boardStreams());
        },
      });
    },
  };
}
