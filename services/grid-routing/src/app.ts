import type { Pool } from 'pg';
import type { Registry } from 'prom-client';
import type { Bus, Subscription } from '@griddispatch/bus';
import { Topics } from '@griddispatch/contracts';
import { byTopic, loadRetentionConfig, startRelay, startRetention, type Relay, type Retention, type RetentionConfig } from '@griddispatch/db';
import type { ServiceHandle } from '@griddispatch/http';
import type { Logger } from '@griddispatch/observability';
import type { Policy } from '@griddispatch/sla';
import { loadConfig, loadPolicy, type GridRoutingConfig } from './config.ts';
import { callbackAnsweredConsumer } from './consumers/callback-answered.ts';
import { incidentEventConsumer } from './consumers/incident-event.ts';
import { meterEventConsumer } from './consumers/meter-event.ts';
import { outagePlannedConsumer } from './consumers/outage-planned.ts';
import { requestReceivedConsumer } from './consumers/request-received.ts';
import { workOrderUpdatedConsumer } from './consumers/workorder-updated.ts';
import { gridRoutingMetrics } from './metrics.ts';
import { routingRetention } from './retention.ts';
import { RoutingDataCache } from './routing-data.ts';
import { gridRoutes } from './routes/grids.routes.ts';
import { incidentRoutes } from './routes/incidents.routes.ts';
import { plannedOutageRoutes } from './routes/planned-outages.routes.ts';
import { reportRoutes } from './routes/reports.routes.ts';
import { routingAdminRoutes } from './routes/routing-admin.routes.ts';
import { migrateRouting } from './schema-migrations.ts';
import { SCHEMA } from './schema.ts';
import type { MetersStillOff } from './use-cases/incidents.ts';
import { metersStillOff } from './use-cases/meters.ts';
import { plannedOutagesFor } from './use-cases/plan-outage.ts';
import { startCallCountTeller, type CallCountTeller } from './use-cases/tell-call-counts.ts';
import type { PlannedOutageLookup, RoutingContext } from './use-cases/routing-context.ts';

export const CONSUMER_GROUP = 'grid-routing';

export interface GridRoutingDeps {
  pool: Pool;
  bus: Bus;
  logger: Logger;
  /** Default: parsed from the environment (`loadConfig`). */
  config?: GridRoutingConfig;
  /** Default: the file at `config.slaPolicyPath`, else packages/sla's DEFAULT_POLICY. */
  policy?: Policy;
  now?: () => Date;
  /** Consumer group of the requests.received subscription. Default `grid-routing`; workorders.events use `<groupId>.workorders`. */
  groupId?: string;
  /** Whether an incident's meters still report off when its crew resolves it. Default: use-cases/meters.ts' metersStillOff. */
  metersStillOff?: MetersStillOff;
  /** Planned outages of some 台区: calls inside one join its incident. Default: use-cases/plan-outage.ts' plannedOutagesFor. */
  plannedOutages?: PlannedOutageLookup;
  /** Bus attempts per record and first retry delay. Default: the bus's (5 attempts from 100 ms). */
  consumerRetry?: { maxAttempts: number; backoffMs: number };
  /** Housekeeping of old decisions, incidents and inbox marks. Default: `loadRetentionConfig()` (environment). */
  retention?: RetentionConfig;
}

export interface GridRoutingHandle extends ServiceHandle {
  /** For tests and the embedded start: resolves when every decision so far has been published. */
  drained(): Promise<void>;
}

/** Composition root: migrations, policy, routing data; consumers and relay start in `start()`. */
export async function buildGridRouting(deps: GridRoutingDeps): Promise<GridRoutingHandle> {
  const config = deps.config ?? loadConfig();
  const logger = deps.logger.child({ service: 'grid-routing' });
  await migrateRouting(deps.pool, logger);
  const policy = deps.policy ?? (await loadPolicy(config.slaPolicyPath));
  const data = new RoutingDataCache(deps.pool, config.nearestWithinMeters, logger);
  const ctx: RoutingContext = { data, config, policy, now: deps.now ?? (() => new Date()), plannedOutages: deps.plannedOutages ?? plannedOutagesFor };

  let subscription: Subscription | undefined;
  let meterSubscription: Subscription | undefined;
  let workOrders: Subscription | undefined;
  let customers: Subscription | undefined;
  let callbacks: Subscription | undefined;
  let relay: Relay | undefined;
  const groupId = deps.groupId ?? CONSUMER_GROUP;
  const workOrdersGroupId = `${groupId}.workorders`;
  const retry = deps.consumerRetry ? { maxAttempts: deps.consumerRetry.maxAttempts, retryBackoffMs: deps.consumerRetry.backoffMs } : {};
  // Meter events have their own group: a flood of them (a feeder trip) never queues calls behind it.
  const meterGroupId = `${groupId}.meters`;
  // Telling customers reads grid-routing's own incident and outage events in a group of its own,
  // off the routing path: a 13,700-account notice never delays a call.
  const customersGroupId = `${groupId}.customers`;
  const callbacksGroupId = `${groupId}.callbacks`;
  const retentionConfig = deps.retention ?? loadRetentionConfig();
  let retention: Retention | undefined;
  let teller: CallCountTeller | undefined;
  const metrics = gridRoutingMetrics({
    pool: deps.pool,
    bus: deps.bus,
    logger,
    consumers: [
      { group: groupId, topics: [Topics.requestsReceived] },
      { group: workOrdersGroupId, topics: [Topics.workordersEvents] },
      { group: meterGroupId, topics: [Topics.metersEvents] },
      { group: customersGroupId, topics: [Topics.incidentsEvents, Topics.outagesPlanned] },
      { group: callbacksGroupId, topics: [Topics.callbacksEvents] },
    ],
  });

  return {
    name: 'grid-routing',
    routes: async (app) => {
      await app.register(gridRoutes({ pool: deps.pool }));
      await app.register(routingAdminRoutes({ pool: deps.pool, ctx }));
      await app.register(incidentRoutes({ pool: deps.pool, ctx }));
      await app.register(plannedOutageRoutes({ pool: deps.pool, ctx }));
      await app.register(reportRoutes({ pool: deps.pool, timeZone: config.timeZone, now: ctx.now }));
    },
    async start() {
      await data.listen();
      await data.reload();
      relay = startRelay({ pool: deps.pool, schema: SCHEMA, bus: deps.bus, logger });
      subscription = await deps.bus.subscribe({
        groupId,
        topics: [Topics.requestsReceived],
        ...requestReceivedConsumer({
          pool: deps.pool,
          logger,
          ctx,
          onOutcome: (outcome) => metrics.routed(outcome),
        }),
        ...retry,
      });
      workOrders = await deps.bus.subscribe({
        groupId: workOrdersGroupId,
        topics: [Topics.workordersEvents],
        ...workOrderUpdatedConsumer({ pool: deps.pool, logger, ctx, metersStillOff: deps.metersStillOff ?? metersStillOff }),
        ...retry,
      });
      meterSubscription = await deps.bus.subscribe({
        groupId: meterGroupId,
        topics: [Topics.metersEvents],
        ...meterEventConsumer({
          pool: deps.pool,
          logger,
          ctx,
          onResult: (result, event) => metrics.meterEvent(result, event),
        }),
        ...retry,
      });
      const noticeDeps = { pool: deps.pool, logger, now: ctx.now, onRecords: (n: number) => metrics.noticeRecords(n) };
      customers = await deps.bus.subscribe({
        groupId: customersGroupId,
        topics: [Topics.incidentsEvents, Topics.outagesPlanned],
        ...byTopic({
          [Topics.incidentsEvents]: incidentEventConsumer(noticeDeps),
          [Topics.outagesPlanned]: outagePlannedConsumer(noticeDeps),
        }),
        ...retry,
      });
      callbacks = await deps.bus.subscribe({
        groupId: callbacksGroupId,
        topics: [Topics.callbacksEvents],
        ...callbackAnsweredConsumer({ pool: deps.pool, logger, ctx }),
        ...retry,
      });
      teller = startCallCountTeller(ctx, deps.pool, config.incidentCountsIntervalMs, logger);
      retention = startRetention({
        pool: deps.pool,
        schema: SCHEMA,
        tables: routingRetention(retentionConfig),
        intervalMs: retentionConfig.intervalMs,
        now: ctx.now,
        logger,
      });
      logger.info({ policy: policy.rules.map((r) => r.name), timeZone: config.timeZone }, 'grid-routing started');
    },
    async stop() {
      await retention?.stop();
      retention = undefined;
      await teller?.stop();
      teller = undefined;
      await subscription?.stop();
      subscription = undefined;
      await workOrders?.stop();
      workOrders = undefined;
      await meterSubscription?.stop();
      meterSubscription = undefined;
      await customers?.stop();
      customers = undefined;
      await callbacks?.stop();
      callbacks = undefined;
      // Unpublished outbox rows are durable; the next start (or another replica) publishes them.
      await relay?.stop();
      relay = undefined;
      await data.close();
    },
    async ready() {
      if (!subscription?.isRunning() || !workOrders?.isRunning() || !meterSubscription?.isRunning() || !callbacks?.isRunning() || !customers?.isRunning())
        return false;
      return (await deps.pool.query('SELECT 1')).rowCount === 1;
    },
    async drained() {
      await relay?.drained();
    },
    registerMetrics: (registry: Registry) => metrics.register(registry),
  };
}
