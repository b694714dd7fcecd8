import type { Pool } from 'pg';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Bus } from '@griddispatch/bus';
import type { InboundSmsOutcome } from '@griddispatch/contracts';
import { registerProbeGauge, registerServiceMetrics } from '@griddispatch/http';
import type { Logger } from '@griddispatch/observability';
import { CHANNELS, type ChannelName, type SendOutcome } from './channels/types.ts';
import { SCHEMA } from './schema.ts';

export interface NotificationMetricsDeps {
  pool: Pool;
  bus: Bus;
  logger: Logger;
  /** Every consumer group and its topics (their lag). */
  consumers: { group: string; topics: string[] }[];
}

/**
 * notification's metrics (docs/architecture.md#observability): counters the delivery worker and
 * the inbound SMS route feed, and gauges read when /metrics is scraped.
 */
export function notificationMetrics(deps: NotificationMetricsDeps) {
  const attemptsTotal = new Counter({
    name: 'griddispatch_notification_attempts_total',
    help: 'notification send attempts by channel and outcome',
    labelNames: ['channel', 'outcome'] as const,
    registers: [],
  });
  const inboundSms = new Counter({
    name: 'griddispatch_notification_inbound_sms_total',
    help: 'SMS replies received (POST /v1/inbound/sms) by outcome and, when refused, why',
    labelNames: ['outcome', 'reason'] as const,
    registers: [],
  });
  const sendSeconds = new Histogram({
    name: 'griddispatch_notification_send_seconds',
    help: 'time to send one notification, by channel',
    labelNames: ['channel'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [],
  });
  // The channel alarm: 1 while the channel's vendor refuses its configuration (credentials,
  // signature, balance), back to 0 at the next message it accepts. A refused template shows as
  // attempts with outcome `disabled` (the counter above) and an error line.
  const channelRefused = new Gauge({
    name: 'griddispatch_notification_channel_refused',
    help: "1 while the channel's vendor refuses its configuration (every message of it waits); 0 once it accepts again",
    labelNames: ['channel'] as const,
    registers: [],
  });
  channelRefused.set({ channel: 'sms' }, 0);

  return {
    attempt(channel: ChannelName, outcome: SendOutcome, latencyMs: number): void {
      attemptsTotal.inc({ channel, outcome: outcome.kind });
      if (outcome.kind === 'disabled' && outcome.scope === 'channel') channelRefused.set({ channel }, 1);
      else if (outcome.kind === 'delivered') channelRefused.set({ channel }, 0);
      sendSeconds.observe({ channel }, latencyMs / 1000);
    },
    inboundSms(r: InboundSmsOutcome): void {
      inboundSms.inc({ outcome: r.outcome, reason: r.reason ?? 'none' });
    },
    register(registry: Registry): void {
      registry.registerMetric(attemptsTotal);
      registry.registerMetric(channelRefused);
      registry.registerMetric(sendSeconds);
      registry.registerMetric(inboundSms);
      registerServiceMetrics(registry, {
        service: 'notification',
        pool: deps.pool,
        schema: SCHEMA,
        bus: deps.bus,
        consumers: deps.consumers,
        logger: deps.logger,
      });
      registerProbeGauge(registry, {
        name: 'griddispatch_notification_customer_messages',
        help: "Customer messages (outage and planned-outage SMS) by kind and status: the progress of telling an outage's customers",
        labelNames: ['kind', 'status'] as const,
        logger: deps.logger,
        async read() {
          const { rows } = await deps.pool.query<{ kind: string; status: string; n: number }>(
            `SELECT notice_kind AS kind, status, count(*)::int AS n FROM ${SCHEMA}.deliveries WHERE notice_kind IS NOT NULL GROUP BY notice_kind, status`,
          );
          return rows.map((r) => ({ labels: { kind: r.kind, status: r.status }, value: r.n }));
        },
      });
      registerProbeGauge(registry, {
        name: 'griddispatch_notification_deliveries',
        help: 'Deliveries not delivered, by status (pending incl. scheduled retries, failed, dead) and channel',
        labelNames: ['status', 'channel'] as const,
        logger: deps.logger,
        async read() {
          const { rows } = await deps.pool.query<{ status: string; channel: string; n: number }>(
            `SELECT status, channel, count(*)::int AS n FROM ${SCHEMA}.deliveries WHERE status IN ('pending', 'failed', 'dead') GROUP BY status, channel`,
          );
          const samples = new Map<string, { labels: { status: string; channel: string }; value: number }>();
          for (const status of ['pending', 'failed', 'dead']) {
            for (const channel of CHANNELS) samples.set(`${status}/${channel}`, { labels: { status, channel }, value: 0 });
          }
          for (const r of rows) samples.set(`${r.status}/${r.channel}`, { labels: { status: r.status, channel: r.channel }, value: r.n });
          return [...samples.values()];
        },
      });
    },
  };
}
