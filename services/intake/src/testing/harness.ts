import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Bus, IncomingMessage, Subscription } from '@griddispatch/bus';
import { buildEvent, serializeEvent, type CloudEvent, type EventData, type EventType, EventTypes } from '@griddispatch/contracts';
import { buildHttpHost, type RateLimitOptions } from '@griddispatch/http';
import { createLogger } from '@griddispatch/observability';
import { createTestInProcessBus, freshDatabase, testGroupId, waitForIdle, type FreshDatabase } from '@griddispatch/testkit';
import { buildIntake, type IntakeHandle } from '../app.ts';
import { loadConfig } from '../config.ts';

// Builds intake the way the embedded start does (real PostgreSQL, a bus, one HTTP host) for
// integration tests, and tears it down again.

export const KEYS = {
  writer: 'sgcc-95598-secret-0001',
  reader: 'operator-desk-secret-01',
  field: 'field-app-secret-000001',
  admin: 'station-admin-secret-01',
  /** Bound to source 95598 (GD_API_KEYS `:95598`). */
  only95598: 'sgcc-95598-bound-secret-01',
  /** Another integrator, bound to source 12345: it must not reach 95598's tickets. */
  rival: 'wuhan-12345-rival-secret-1',
  /** Limited to the 后湖 area grid (GD_API_KEYS `:grids=area-hh`): reads and writes its work orders only. */
  hhOnly: 'houhu-only-secret-000001',
};

const API_KEYS = [
  `sgcc-95598:${KEYS.writer}:requests:write`,
  `operator-desk:${KEYS.reader}:requests:read`,
  `field-app:${KEYS.field}:workorders:write+requests:read`,
  `station-admin:${KEYS.admin}:admin`,
  `sgcc-95598-bound:${KEYS.only95598}:requests:write+requests:read:95598`,
  `wuhan-12345:${KEYS.rival}:requests:write+requests:read:12345`,
  `houhu-only:${KEYS.hhOnly}:requests:read+workorders:write:grids=area-hh`,
].join(',');

export interface Harness {
  db: FreshDatabase;
  bus: Bus;
  intake: IntakeHandle;
  app: FastifyInstance;
  /** Logical topics → records published there since the harness started. */
  published: Map<string, IncomingMessage[]>;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  post(url: string, body: unknown, key?: string): Promise<LightMyRequestResponse>;
  get(url: string, key?: string): Promise<LightMyRequestResponse>;
  /** Publishes an event as its producer would (for the read model). */
  emit<T extends EventType>(type: T, data: EventData<T>, opts?: { id?: string; time?: Date }): Promise<CloudEvent<T>>;
  /** Relay drained and every consumer idle. */
  settle(): Promise<void>;
  count(table: 'requests' | 'timeline' | 'outbox' | 'inbox' | 'meter_events' | 'incidents'): Promise<number>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  bus?: Bus;
  rateLimit?: RateLimitOptions | false;
  bodyLimit?: number;
  now?: () => Date;
  /** Topics to record (default: requests.received and workorders.events). */
  record?: string[];
  /** Start relay and consumers (default true). */
  start?: boolean;
  relay?: { pollIntervalMs?: number; retryBackoffMs?: number; maxRetryBackoffMs?: number };
  consumerStartWaitMs?: number;
  /** waitForIdle timeout in settle(). Default 15 s. */
  settleTimeoutMs?: number;
  board?: { heartbeatMs?: number; coalesceMs?: number; bufferSize?: number; streamsPerKey?: number };
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const logger = createLogger({ service: 'intake-test', level: process.env.LOG_LEVEL ?? 'silent' });
  const db = await freshDatabase('intake');
  const bus = options.bus ?? createTestInProcessBus();
  const intake = await buildIntake({
    pool: db.pool,
    bus,
    logger,
    config: { ...loadConfig({}), groupId: testGroupId('intake') },
    now: options.now,
    relay: { pollIntervalMs: 250, ...options.relay },
    ...(options.consumerStartWaitMs !== undefined ? { consumerStartWaitMs: options.consumerStartWaitMs } : {}),
    ...(options.board ? { board: options.board } : {}),
  });
  const app = await buildHttpHost({
    pool: db.pool,
    logger,
    apiKeys: API_KEYS,
    services: [intake],
    rateLimit: options.rateLimit ?? false,
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
  });
  const published = new Map<string, IncomingMessage[]>();
  const recorders: Subscription[] = [];
  const record = options.record ?? ['requests.received', 'workorders.events'];
  if (options.start ?? true) await intake.start();
  if ((options.start ?? true) && record.length > 0) {
    recorders.push(
      await bus.subscribe({
        groupId: testGroupId('recorder'),
        topics: record,
        handler: async (m) => {
          published.set(m.topic, [...(published.get(m.topic) ?? []), m]);
        },
      }),
    );
  }

  const auth = (key: string | undefined) => (key ? { authorization: `Bearer ${key}` } : {});
  const harness: Harness = {
    db,
    bus,
    intake,
    app,
    published,
    inject: (o) => app.inject(o) as Promise<LightMyRequestResponse>,
    post: (url, body, key = KEYS.writer) =>
      app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', ...auth(key) },
        payload: typeof body === 'string' ? body : JSON.stringify(body),
      }) as Promise<LightMyRequestResponse>,
    get: (url, key = KEYS.reader) => app.inject({ method: 'GET', url, headers: auth(key) }) as Promise<LightMyRequestResponse>,
    async emit(type, data, opts = {}) {
      // Work-order events are about a work order; incident events about the incident (their key).
      const subject = (data as { workOrderId?: string }).workOrderId ?? (data as { id: string }).id;
      const event = buildEvent({ type, source: type.includes('.sla.') ? 'sla-timer' : 'grid-routing', subject, data, ...opts });
      await bus.publish(EventTypes[type].topic, [{ key: event.subject, value: serializeEvent(event) }]);
      return event;
    },
    async settle() {
      await intake.drained();
      await waitForIdle(bus, { settleMs: 50, timeoutMs: options.settleTimeoutMs ?? 15_000 });
    },
    async count(table) {
      const { rows } = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM intake.${table}`);
      return Number(rows[0]!.n);
    },
    async close() {
      await app.close();
      for (const r of recorders) await r.stop();
      await intake.stop();
      await bus.close();
      await db.drop();
    },
  };
  return harness;
}

/** A valid POST /v1/requests body; `over` replaces top-level fields. */
export function requestBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    source: '95598',
    externalId: `GD-${Math.random().toString(36).slice(2, 10)}`,
    category: 'fault_repair',
    description: '养殖塘增氧机停电',
    urgency: 'urgent',
    customer: { accountNo: '4200105566', name: '张三', phone: '13812345678', classes: ['aquaculture'] },
    location: { districtCode: 'HH-TQ-017', lon: 114.52, lat: 30.71, address: '后湖村三组' },
    ...over,
  };
}

/** dispatch.assigned data as grid-routing would publish it for `request`. */
export function assignedData(
  request: { id: string; receivedAt?: string },
  over: {
    gridId?: string;
    gridName?: string;
    areaId?: string;
    incidentId?: string | null;
    deadlines?: Record<string, string>;
    role?: 'primary' | 'merged';
    etr?: string;
    incidentSize?: number;
  } = {},
): EventData<'cn.griddispatch.dispatch.assigned.v1'> {
  const receivedAt = request.receivedAt ?? new Date().toISOString();
  return {
    workOrderId: request.id,
    request: {
      id: request.id,
      source: '95598',
      externalId: 'GD-X',
      category: 'fault_repair',
      receivedAt,
      urgency: 'urgent',
      location: { districtCode: 'HH-TQ-017' },
    },
    grid: {
      id: over.gridId ?? 'grid-hh-3',
      name: over.gridName ?? '后湖3号网格',
      kind: 'district',
      areaType: 'rural',
      ...(over.areaId ? { areaId: over.areaId } : {}),
    },
    resolvedBy: 'district',
    districtCode: 'HH-TQ-017',
    assignees: [
      { staffId: 'staff-hh-07', name: '王建国', role: 'manager' },
      { staffId: 'crew-hh-1', name: '后湖抢修班', role: 'repair_crew' },
    ],
    contacts: [],
    customerClasses: ['aquaculture'],
    homeVisit: false,
    incidentId: over.incidentId ?? null,
    ...(over.role ? { role: over.role } : {}),
    ...(over.etr ? { etr: over.etr } : {}),
    ...(over.incidentSize ? { incidentSize: over.incidentSize } : {}),
    urgency: 'urgent',
    sla: {
      policy: 'aquaculture-circle',
      deadlines: over.deadlines ?? { ack: '2026-11-23T12:05:00.000Z', arrive: '2026-11-23T12:30:00.000Z', resolve: '2026-11-23T14:00:00.000Z' },
      warnBeforeMs: 300_000,
      escalation: [],
      calendar: null,
    },
  };
}

/** An incident as grid-routing would publish it on incidents.events (the whole incident + change). */
export function incidentData(over: Partial<EventData<'cn.griddispatch.incident.opened.v1'>> = {}): EventData<'cn.griddispatch.incident.opened.v1'> {
  return {
    id: 'inc-hh-017-1',
    status: 'open',
    origin: 'call',
    kind: 'district',
    gridId: 'grid-hh-3',
    feederCode: 'HH-F01',
    districtCodes: ['HH-TQ-017'],
    parentId: null,
    childIds: [],
    callCount: 1,
    affectedCustomers: 86,
    urgency: 'urgent',
    openedAt: '2026-11-23T11:00:00.000Z',
    etr: '2026-11-23T14:00:00.000Z',
    etrSource: 'policy',
    primaryRequestId: null,
    plannedOutageId: null,
    restoredAt: null,
    restorationUnconfirmed: false,
    updatedAt: '2026-11-23T11:00:00.000Z',
    change: 'opened',
    ...over,
  };
}
