import type { Pool } from 'pg';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Bus } from '@griddispatch/bus';
import { registerProbeGauge, registerServiceMetrics } from '@griddispatch/http';
import type { Logger } from '@griddispatch/observability';
import { SCHEMA } from './schema.ts';
import type { FiredTimer } from './use-cases/fire-due-timers.ts';

export interface SlaTimerMetricsDeps {
  pool: Pool;
  bus: Bus;
  logger: Logger;
  /** The consumer group and its topics (their lag). */
  groupId: string;
  topics: string[];
  /** Due times held in the scheduler's in-memory schedule. */
  inMemoryTimers: () => number;
}

/**
 * sla-timer's metrics (docs/architecture.md#observability): what fired and how late, fed by the
 * scheduler, and gauges read when /metrics is scraped. `register` adds them to the host's registry.
 */
export function slaTimerMetrics(deps: SlaTimerMetricsDeps) {
  const firedCounter = new Counter({
    name: 'griddispatch_sla_timers_fired_total',
    help: 'SLA timers fired, by kind and whether they fired late (after downtime)',
    labelNames: ['kind', 'late'] as const,
    registers: [],
  });
  const lateness = new Histogram({
    name: 'griddispatch_sla_firing_lateness_seconds',
    help: 'How long after its due time a timer fired',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600],
    registers: [],
  });

  return {
    fired(fired: FiredTimer[]): void {
      for (const f of fired) {
        firedCounter.inc({ kind: f.kind, late: String(f.late) });
        lateness.observe(Math.max(0, f.firedAt.getTime() - f.dueAt.getTime()) / 1000);
      }
    },
    register(registry: Registry): void {
      registry.registerMetric(firedCounter);
      registry.registerMetric(lateness);
      registerProbeGauge(registry, {
        name: 'griddispatch_sla_timers_pending',
        help: 'SLA timers waiting to fire, by kind (paused ones — suspended work orders — not included)',
        labelNames: ['kind'] as const,
        logger: deps.logger,
        async read() {
          const { rows } = await deps.pool.query<{ kind: string; n: number }>(
            "SELECT kind, count(*)::int AS n FROM sla_timer.timers WHERE state = 'pending' GROUP BY kind",
          );
          const byKind = new Map<string, number>([
            ['warning', 0],
            ['breach', 0],
            ['escalation', 0],
          ]);
          for (const r of rows) byKind.set(r.kind, r.n);
          return [...byKind].map(([kind, value]) => ({ labels: { kind }, value }));
        },
      });
      new Gauge({
        name: 'griddispatch_sla_timers_in_memory',
        help: 'Due times held in the scheduler’s in-memory schedule',
        registers: [registry],
        collect() {
          this.set(deps.inMemoryTimers());
        },
      });
      registerServiceMetrics(registry, {
        service: 'sla-timer',
        pool: deps.pool,
        schema: SCHEMA,
        bus: deps.bus,
        consumers: [{ group: deps.groupId, topics: deps.topics }],
        logger: deps.logger,
      });
    },
  };
}
