import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { Bus, Subscription } from '@griddispatch/bus';
import {
  CLOUDEVENTS_CONTENT_TYPE,
  Topics,
  buildEvent,
  parseEvent,
  serializeEvent,
  type CloudEvent,
  type DispatchAssignedV1,
  type IncidentRole,
  type SlaBreachedV1,
  type SlaWarningV1,
  type WorkOrderEventType,
} from '@griddispatch/contracts';
import { freshDatabase, testGroupId, waitForIdle, type FreshDatabase } from '@griddispatch/testkit';
import { planFor, type Policy, type SlaFacts } from '@griddispatch/sla';
import { buildSlaTimer, type SlaTimerHandle } from '../app.ts';
import type { SlaTimerConfig } from '../config.ts';

// Test support: a controllable clock, events as a field app and the router would send them, and
// a collector of what sla-timer emits.

export const silentLogger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

export class FakeClock {
  constructor(private t: number) {}
  readonly now = (): Date => new Date(this.t);
  set(at: Date | string): void {
    this.t = new Date(at).getTime();
  }
  advance(ms: number): Date {
    this.t += ms;
    return this.now();
  }
}

export const testConfig = (over: Partial<SlaTimerConfig> = {}): SlaTimerConfig => ({
  slaPolicyPath: undefined,
  pollIntervalMs: 200,
  lookaheadMs: 60_000,
  batchSize: 100,
  lateAfterMs: 10_000,
  ...over,
});

export function assignedEvent(
  policy: Policy,
  opts: {
    workOrderId?: string;
    openedAt: Date;
    facts?: Partial<SlaFacts>;
    gridId?: string;
    eventId?: string;
    incident?: { id: string; role: IncidentRole; size?: number };
  },
): CloudEvent<'cn.griddispatch.dispatch.assigned.v1'> {
  const workOrderId = opts.workOrderId ?? randomUUID();
  const gridId = opts.gridId ?? 'grid-houhu-3';
  const facts: SlaFacts = { category: 'fault_repair', customerClasses: [], urgency: 'normal', areaType: 'rural', gridId, ...opts.facts };
  const data: DispatchAssignedV1 = {
    workOrderId,
    request: {
      id: workOrderId,
      source: '95598',
      externalId: `ext-${workOrderId}`,
      category: facts.category,
      receivedAt: opts.openedAt.toISOString(),
      urgency: facts.urgency,
      location: { districtCode: 'TQ-001' },
    },
    grid: { id: gridId, name: '后湖3号网格', kind: 'district', areaType: facts.areaType },
    resolvedBy: 'district',
    districtCode: 'TQ-001',
    assignees: [{ staffId: 's-1', name: '张三', role: 'manager' }],
    contacts: [],
    customerClasses: [...facts.customerClasses],
    homeVisit: false,
    incidentId: opts.incident?.id ?? null,
    ...(opts.incident ? { role: opts.incident.role, incidentSize: opts.incident.size ?? 1 } : {}),
    urgency: facts.urgency,
    sla: planFor(policy, facts, opts.openedAt),
  };
  return buildEvent({
    type: 'cn.griddispatch.dispatch.assigned.v1',
    source: 'grid-routing',
    subject: workOrderId,
    data,
    time: opts.openedAt,
    ...(opts.eventId ? { id: opts.eventId } : {}),
  });
}

export function workOrderEvent(workOrderId: string, type: WorkOrderEventType, at: Date): CloudEvent<'cn.griddispatch.workorder.updated.v1'> {
  return buildEvent({
    type: 'cn.griddispatch.workorder.updated.v1',
    source: 'intake',
    subject: workOrderId,
    time: at,
    data: { workOrderId, type, at: at.toISOString(), previousStatus: 'assigned', status: 'assigned', gridId: 'grid-houhu-3' },
  });
}

export type Emitted =
  | { topic: 'sla.warnings'; event: CloudEvent<'cn.griddispatch.sla.warning.v1'>; data: SlaWarningV1 }
  | { topic: 'sla.breaches'; event: CloudEvent<'cn.griddispatch.sla.breached.v1'>; data: SlaBreachedV1 };

/** Subscribes to sla.warnings and sla.breaches and keeps what arrives. */
export async function collectSlaEvents(bus: Bus): Promise<{ events: Emitted[]; groupId: string; subscription: Subscription; clear(): void }> {
  const events: Emitted[] = [];
  const groupId = testGroupId('sla-collector');
  const subscription = await bus.subscribe({
    groupId,
    topics: [Topics.slaWarnings, Topics.slaBreaches],
    handler: async (message) => {
      const event = parseEvent(message.value);
      if (message.key !== event.subject) throw new Error(`record key ${message.key} is not the work order id ${event.subject}`);
      events.push({ topic: message.topic, event, data: event.data } as Emitted);
    },
  });
  return { events, groupId, subscription, clear: () => events.splice(0) };
}

export async function publish(bus: Bus, topic: string, key: string, event: CloudEvent): Promise<void> {
  await bus.publish(topic, [{ key, value: serializeEvent(event), headers: { 'content-type': CLOUDEVENTS_CONTENT_TYPE } }]);
}

export interface Harness {
  db: FreshDatabase;
  bus: Bus;
  clock: FakeClock;
  service: SlaTimerHandle;
  events: Emitted[];
  policy: Policy;
  assign(opts: Parameters<typeof assignedEvent>[1]): Promise<CloudEvent<'cn.griddispatch.dispatch.assigned.v1'>>;
  update(workOrderId: string, type: WorkOrderEventType, at?: Date): Promise<void>;
  /** Advances the clock, fires what is due and waits until it is published and collected. */
  advance(ms: number): Promise<Emitted[]>;
  /** Waits until consumers are idle and the outbox is drained. */
  settle(): Promise<void>;
  /** Stops the service (the database stays) and builds a fresh instance on it. */
  restart(between?: () => void): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(opts: { bus: Bus; policy: Policy; start: Date; config?: Partial<SlaTimerConfig>; db?: FreshDatabase }): Promise<Harness> {
  const db = opts.db ?? (await freshDatabase('sla_timer'));
  const clock = new FakeClock(opts.start.getTime());
  const groupId = testGroupId('sla-timer');
  const build = () =>
    buildSlaTimer({
      pool: db.pool,
      bus: opts.bus,
      logger: silentLogger,
      config: testConfig(opts.config),
      policy: opts.policy,
      now: clock.now,
      timers: 'manual',
      groupId,
    });
  let service = await build();
  await service.start();
  const collector = await collectSlaEvents(opts.bus);
  const settle = async () => {
    await waitForIdle(opts.bus);
    await service.drained();
    await waitForIdle(opts.bus);
  };
  const h: Harness = {
    db,
    bus: opts.bus,
    clock,
    get service() {
      return service;
    },
    events: collector.events,
    policy: opts.policy,
    async assign(a) {
      const event = assignedEvent(opts.policy, a);
      await publish(opts.bus, Topics.dispatchAssigned, event.data.grid.id, event);
      await settle();
      return event;
    },
    async update(workOrderId, type, at) {
      await publish(opts.bus, Topics.workordersEvents, workOrderId, workOrderEvent(workOrderId, type, at ?? clock.now()));
      await settle();
    },
    async advance(ms) {
      const before = collector.events.length;
      clock.advance(ms);
      await service.tick();
      await settle();
      return collector.events.slice(before);
    },
    settle,
    async restart(between) {
      await service.stop();
      between?.();
      service = await build();
      await service.start();
    },
    async close() {
      await collector.subscription.stop();
      await service.stop();
      await opts.bus.close();
      await db.drop();
    },
  };
  return h;
}
