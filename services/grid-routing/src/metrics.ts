import type { Pool } from 'pg';
import { Counter, type Registry } from 'prom-client';
import type { Bus } from '@griddispatch/bus';
import type { CloudEvent } from '@griddispatch/contracts';
import { registerProbeGauge, registerServiceMetrics } from '@griddispatch/http';
import type { Logger } from '@griddispatch/observability';
import { SCHEMA } from './schema.ts';
import type { MeterResult } from './use-cases/meters.ts';
import type { RouteOutcome } from './use-cases/route-request.ts';

export interface GridRoutingMetricsDeps {
  pool: Pool;
  bus: Bus;
  logger: Logger;
  /** Every consumer group and its topics (their lag). */
  consumers: { group: string; topics: string[] }[];
}

/**
 * grid-routing's metrics (docs/architecture.md#observability): counters the consumers feed, and
 * gauges read when /metrics is scraped. `register` adds them all to the host's registry.
 */
export function gridRoutingMetrics(deps: GridRoutingMetricsDeps) {
  const decisions = new Counter({
    name: 'griddispatch_routing_decisions_total',
    help: 'Routing decisions by result (assigned, unroutable) and how the grid was found (account, district, point, nearest, community; none when unroutable)',
    labelNames: ['result', 'resolved_by'] as const,
    registers: [],
  });
  const meterEvents = new Counter({
    name: 'griddispatch_meter_events_total',
    help: 'Meter events applied, by kind and result: what they did (off, on, below_quorum, opened, planned, evidence, restored, confirmed) or the reason they changed nothing (noop_duplicate, noop_unknown_meter, noop_future, noop_stale, noop_unchanged, noop_no_outage, noop_storm_single_customer)',
    labelNames: ['kind', 'result'] as const,
    registers: [],
  });
  const noticeRecords = new Counter({
    name: 'griddispatch_customer_notice_records_total',
    help: 'customers.notices records written (≤ 500 customers each) for notification to send',
    registers: [],
  });

  return {
    routed(outcome: RouteOutcome): void {
      if (outcome.status === 'duplicate') return;
      if (outcome.status === 'assigned') decisions.inc({ result: 'assigned', resolved_by: outcome.event.data.resolvedBy });
      else decisions.inc({ result: 'unroutable', resolved_by: 'none' });
    },
    meterEvent(result: MeterResult, event: CloudEvent<'cn.griddispatch.meter.event.v1'>): void {
      meterEvents.inc({ kind: event.data.kind, result: result.status === 'noop' ? `noop_${result.reason}` : result.outcome });
    },
    noticeRecords(n: number): void {
      noticeRecords.inc(n);
    },
    register(registry: Registry): void {
      registerServiceMetrics(registry, {
        service: 'grid-routing',
        pool: deps.pool,
        schema: SCHEMA,
        bus: deps.bus,
        consumers: deps.consumers,
        logger: deps.logger,
      });
      registry.registerMetric(decisions);
      registry.registerMetric(meterEvents);
      registry.registerMetric(noticeRecords);
      registerProbeGauge(registry, {
        name: 'griddispatch_routing_unroutable',
        help: 'requests waiting at the fallback desk (unroutable, not yet re-routed)',
        logger: deps.logger,
        async read() {
          const { rows } = await deps.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM routing.routed_requests WHERE status = 'unroutable'");
          return [{ value: rows[0]?.n ?? 0 }];
        },
      });
      registerProbeGauge(registry, {
        name: 'griddispatch_routing_incidents_open',
        help: 'incidents not yet restored, by kind (district, feeder) and status (open, dispatched, en_route, arrived)',
        labelNames: ['kind', 'status'] as const,
        logger: deps.logger,
        async read() {
          const { rows } = await deps.pool.query<{ kind: string; status: string; n: number }>(
            "SELECT kind, status, count(*)::int AS n FROM routing.incidents WHERE status NOT IN ('restored', 'closed') GROUP BY kind, status",
          );
          return rows.map((r) => ({ labels: { kind: r.kind, status: r.status }, value: r.n }));
        },
      });
    },
  };
}
