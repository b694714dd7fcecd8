import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { Bus, Subscription } from '@griddispatch/bus';
import {
  buildEvent,
  parseEvent,
  serializeEvent,
  Topics,
  type CloudEvent,
  type DispatchAssignedV1,
  type DispatchUnroutableV1,
  type RequestReceivedV1,
} from '@griddispatch/contracts';
import { buildHttpHost } from '@griddispatch/http';
import type { Logger } from '@griddispatch/observability';
import { createTestInProcessBus, freshDatabase, testGroupId, waitForIdle, type FreshDatabase } from '@griddispatch/testkit';
import { buildGridRouting, type GridRoutingHandle } from '../app.ts';
import { loadConfig, type GridRoutingConfig } from '../config.ts';
import { importData } from '../use-cases/import-data.ts';
import { AREA_TC, fixtureFiles } from './fixture-county.ts';

export const ADMIN_KEY = 'routing-admin-secret-0001';
export const READ_KEY = 'routing-reader-secret-001';
/** A reader limited to the 天城 area grid (GD_API_KEYS `:grids=`): sees TC-G1 under it, not 后湖's grids. */
export const TC_READ_KEY = 'routing-tc-reader-secret-01';
/** The same grid limit with workorders:write (a field app of 天城). */
export const TC_WRITE_KEY = 'routing-tc-writer-secret-01';

export type Output =
  | { type: 'assigned'; key: string; event: CloudEvent<'cn.griddispatch.dispatch.assigned.v1'>; data: DispatchAssignedV1 }
  | { type: 'unroutable'; key: string; event: CloudEvent<'cn.griddispatch.dispatch.unroutable.v1'>; data: DispatchUnroutableV1 };

export type IncidentEvent = CloudEvent<
  'cn.griddispatch.incident.opened.v1' | 'cn.griddispatch.incident.updated.v1' | 'cn.griddispatch.incident.restored.v1' | 'cn.griddispatch.incident.closed.v1'
>;

export interface Harness {
  db: FreshDatabase;
  bus: Bus;
  service: GridRoutingHandle;
  host: FastifyInstance;
  logger: Logger;
  /** Everything grid-routing emitted on the dispatch topics, in arrival order. */
  outputs: Output[];
  /** Its incidents.events, in arrival order. */
  incidentEvents: IncidentEvent[];
  /** Publishes request.received events and waits until grid-routing decided and published them. */
  send(...events: CloudEvent<'cn.griddispatch.request.received.v1'>[]): Promise<Output[]>;
  /** Waits until every decision so far is published and collected. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export function silentLogger(): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? 'silent' });
}

let counter = 0;

/** A request.received event as intake would publish it. */
export function requestEvent(
  fields: Partial<Omit<RequestReceivedV1, 'id' | 'externalId'>> & { id?: string; receivedAt: string },
): CloudEvent<'cn.griddispatch.request.received.v1'> {
  const id = fields.id ?? randomUUID();
  const data: RequestReceivedV1 = {
    source: '95598',
    category: 'fault_repair',
    urgency: 'normal',
    location: {},
    ...fields,
    id,
    externalId: `ext-${++counter}-${id.slice(0, 8)}`,
  };
  return buildEvent({ type: 'cn.griddispatch.request.received.v1', source: 'intake', subject: id, data });
}

export async function startHarness(
  options: { config?: Partial<GridRoutingConfig>; bus?: Bus; importFixture?: boolean; groupId?: string } = {},
): Promise<Harness> {
  const db = await freshDatabase('routing');
  const bus = options.bus ?? createTestInProcessBus();
  const logger = silentLogger();
  if (options.importFixture !== false) {
    const report = await importData(db.pool, fixtureFiles());
    if (!report.ok) throw new Error(`fixture import failed: ${JSON.stringify(report.problems)}`);
  }
  const config = { ...loadConfig({}), ...options.config };
  const service = await buildGridRouting({ pool: db.pool, bus, logger, config, groupId: options.groupId ?? testGroupId('grid-routing') });
  const host = await buildHttpHost({
    pool: db.pool,
    logger,
    services: [service],
    apiKeys: `admin:${ADMIN_KEY}:admin,reader:${READ_KEY}:requests:read,tc-reader:${TC_READ_KEY}:requests:read:grids=${AREA_TC},tc-writer:${TC_WRITE_KEY}:workorders:write:grids=${AREA_TC}`,
    rateLimit: false,
  });
  const outputs: Output[] = [];
  const incidentEvents: IncidentEvent[] = [];
  const collectorGroup = testGroupId('collector');
  const collector: Subscription = await bus.subscribe({
    groupId: collectorGroup,
    topics: [Topics.dispatchAssigned, Topics.dispatchUnroutable, Topics.incidentsEvents],
    handler: async (message) => {
      const event = parseEvent(message.value);
      if (event.type === 'cn.griddispatch.dispatch.assigned.v1') {
        const e = event as CloudEvent<'cn.griddispatch.dispatch.assigned.v1'>;
        outputs.push({ type: 'assigned', key: message.key, event: e, data: e.data });
      } else if (event.type === 'cn.griddispatch.dispatch.unroutable.v1') {
        const e = event as CloudEvent<'cn.griddispatch.dispatch.unroutable.v1'>;
        outputs.push({ type: 'unroutable', key: message.key, event: e, data: e.data });
      } else if (event.type.startsWith('cn.griddispatch.incident.')) {
        incidentEvents.push(event as IncidentEvent);
      }
    },
  });
  await service.start();

  const idleTimeout = bus.kind === 'kafka' ? 60_000 : 15_000;
  async function settle(): Promise<void> {
    await waitForIdle(bus, { timeoutMs: idleTimeout });
    await service.drained();
    await waitForIdle(bus, { timeoutMs: idleTimeout, settleMs: bus.kind === 'kafka' ? 200 : 20 });
  }

  return {
    db,
    bus,
    service,
    host,
    logger,
    outputs,
    incidentEvents,
    settle,
    async send(...events) {
      const before = outputs.length;
      for (const event of events) {
        await bus.publish(Topics.requestsReceived, [{ key: event.data.id, value: serializeEvent(event) }]);
        // One at a time: the tests reason about the order calls arrive in (grouping).
        await settle();
      }
      return outputs.slice(before);
    },
    async close() {
      await host.close();
      await service.stop();
      await collector.stop();
      if (!options.bus) await bus.close();
      await db.drop();
    },
  };
}

export function assigned(output: Output | undefined): DispatchAssignedV1 {
  if (output?.type !== 'assigned') throw new Error(`expected dispatch.assigned, got ${JSON.stringify(output)}`);
  return output.data;
}
