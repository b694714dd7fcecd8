import { AssignerProtocol, Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';
import { Topics } from '@griddispatch/contracts';

// The benchmark's view of the stack through Kafka, as an operator would have it: a throwaway
// consumer on the output topics (every dispatch and breach, with the time it arrived here), and
// consumer lag per group from the broker's own offsets (kafkajs admin).

export function kafkaClient(brokers: string[], clientId: string): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 8 } });
}

/** Wall-clock milliseconds with sub-millisecond resolution (performance clock anchored at start). */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export interface DispatchSeen {
  /** When this process received the record (wall ms). */
  at: number;
  /** The CloudEvent `time`: when grid-routing built the event (before its outbox commit). */
  eventTime: number;
  count: number;
  kind: 'assigned' | 'unroutable';
  incidentId: string | null;
  incidentSize: number | null;
  /** `primary` / `merged` in its incident; null when the producer says none. */
  role: 'primary' | 'merged' | null;
  /** The request's source: `grid-dispatch` for the work order intake opens for an incident without a call. */
  source: string | null;
  districtCode: string | null;
  policy: string | null;
  /** The ack deadline of the SLA plan (wall ms), if any. */
  ackDeadline: number | null;
  bytes: number;
}

export interface BreachSeen {
  at: number;
  deadline: number;
  /** sla-timer's own lateness when it fired the breach. */
  firedLatenessMs: number;
  stage: string;
  level: number;
  count: number;
}

/** An incident as incidents.events last told it (grid-routing emits the whole incident after each change). */
export interface IncidentSeen {
  kind: string;
  opened: boolean;
  events: number;
  callCount: number | null;
}

interface Envelope {
  type?: string;
  time?: string;
  data?: {
    id?: string;
    kind?: string;
    callCount?: number;
    workOrderId?: string;
    incidentId?: string | null;
    incidentSize?: number;
    role?: 'primary' | 'merged';
    request?: { source?: string };
    districtCode?: string | null;
    sla?: { policy?: string; deadlines?: { ack?: string } };
    deadline?: string;
    latenessMs?: number;
    stage?: string;
    level?: number;
  };
}

/**
 * Consumes dispatch.assigned, dispatch.unroutable, sla.breaches and incidents.events from the
 * beginning (fresh topics per run) and keeps, per work order, when each arrived (and per incident
 * what incidents.events told). Receipt time is taken once per fetched
 * batch, before parsing, so parsing cost does not inflate it.
 */
export class OutputWatcher {
  readonly dispatches = new Map<string, DispatchSeen>();
  /** Key `<workOrderId>:<stage>:<level>`. */
  readonly breaches = new Map<string, BreachSeen>();
  /** By incident id, from incidents.events (empty while grid-routing emits none). */
  readonly incidents = new Map<string, IncidentSeen>();
  dispatchEvents = 0;
  breachEvents = 0;
  lastDispatchAt = 0;
  private consumer: Consumer | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly prefix: string,
    private readonly groupId: string,
  ) {}

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 50, sessionTimeout: 30_000, heartbeatInterval: 3_000 });
    this.consumer = consumer;
    await consumer.connect();
    const topics = [Topics.dispatchAssigned, Topics.dispatchUnroutable, Topics.slaBreaches, Topics.incidentsEvents].map((t) => `${this.prefix}${t}`);
    await consumer.subscribe({ topics, fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        const at = wallNow();
        const logical = batch.topic.slice(this.prefix.length);
        for (const message of batch.messages) {
          if (!message.value) continue;
          let event: Envelope;
          try {
            event = JSON.parse(message.value.toString('utf8')) as Envelope;
          } catch {
            continue; // not ours to judge: the services' DLQ handling is measured elsewhere
          }
          if (logical === Topics.incidentsEvents) {
            this.incident(event);
            continue;
          }
          const id = event.data?.workOrderId;
          if (!id) continue;
          if (logical === Topics.slaBreaches) this.breach(id, event, at);
          else this.dispatch(id, event, at, logical === Topics.dispatchAssigned ? 'assigned' : 'unroutable', message.value.length);
        }
      },
    });
    await joined;
  }

  private dispatch(id: string, event: Envelope, at: number, kind: DispatchSeen['kind'], bytes: number): void {
    this.dispatchEvents += 1;
    this.lastDispatchAt = Math.max(this.lastDispatchAt, at);
    const seen = this.dispatches.get(id);
    if (seen) {
      seen.count += 1;
      return;
    }
    const ack = event.data?.sla?.deadlines?.ack;
    this.dispatches.set(id, {
      at,
      eventTime: event.time ? Date.parse(event.time) : Number.NaN,
      count: 1,
      kind,
      incidentId: event.data?.incidentId ?? null,
      incidentSize: event.data?.incidentSize ?? null,
      role: event.data?.role ?? null,
      source: event.data?.request?.source ?? null,
      districtCode: event.data?.districtCode ?? null,
      policy: event.data?.sla?.policy ?? null,
      ackDeadline: ack ? Date.parse(ack) : null,
      bytes,
    });
  }

  private incident(event: Envelope): void {
    const id = event.data?.id;
    if (!id) return;
    const seen = this.incidents.get(id) ?? { kind: event.data?.kind ?? '?', opened: false, events: 0, callCount: null };
    seen.events += 1;
    if (event.type === 'cn.griddispatch.incident.opened.v1') seen.opened = true;
    seen.callCount = Math.max(seen.callCount ?? 0, event.data?.callCount ?? 0);
    this.incidents.set(id, seen);
  }

  private breach(id: string, event: Envelope, at: number): void {
    this.breachEvents += 1;
    const key = `${id}:${event.data?.stage}:${event.data?.level}`;
    const seen = this.breaches.get(key);
    if (seen) {
      seen.count += 1;
      return;
    }
    this.breaches.set(key, {
      at,
      deadline: Date.parse(event.data?.deadline ?? ''),
      firedLatenessMs: event.data?.latenessMs ?? Number.NaN,
      stage: event.data?.stage ?? '?',
      level: event.data?.level ?? 0,
      count: 1,
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = null;
  }
}

export interface GroupLag {
  group: string;
  /** Records not yet committed, per topic (logical names), and in total. */
  topics: Record<string, number>;
  total: number;
  members: number;
}

/**
 * Lag of every consumer group of this deployment (the bus puts the topic prefix in front of group
 * names): end offset minus committed offset, summed over partitions, for the topics the group's
 * members subscribe to (or, with no member, the topics it committed offsets for).
 */
export async function consumerLag(admin: Admin, prefix: string, exclude: readonly string[] = []): Promise<GroupLag[]> {
  const { groups } = await admin.listGroups();
  const ours = groups
    .map((g) => g.groupId)
    .filter((g) => g.startsWith(prefix) && !exclude.includes(g))
    .sort();
  if (ours.length === 0) return [];
  const described = await admin.describeGroups(ours);
  const allTopics = (await admin.listTopics()).filter((t) => t.startsWith(prefix) && !t.endsWith('.dlq'));
  const ends = new Map<string, { partition: number; high: number; low: number }[]>();
  const endsOf = async (topic: string) => {
    let e = ends.get(topic);
    if (!e) {
      e = (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, high: Number(p.high), low: Number(p.low) }));
      ends.set(topic, e);
    }
    return e;
  };
  const result: GroupLag[] = [];
  for (const group of described.groups) {
    const subscribed = new Set<string>();
    for (const m of group.members) {
      const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
      for (const t of meta?.topics ?? []) if (t.startsWith(prefix)) subscribed.add(t);
    }
    const candidates = subscribed.size > 0 ? [...subscribed] : allTopics;
    const committed = await admin.fetchOffsets({ groupId: group.groupId, topics: candidates });
    const topics: Record<string, number> = {};
    let total = 0;
    for (const entry of committed) {
      const hasCommit = entry.partitions.some((p) => Number(p.offset) >= 0);
      if (subscribed.size === 0 && !hasCommit) continue;
      let lag = 0;
      for (const end of await endsOf(entry.topic)) {
        const offset = Number(entry.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
        lag += Math.max(0, end.high - (offset >= 0 ? offset : end.low));
      }
      topics[entry.topic.slice(prefix.length)] = lag;
      total += lag;
    }
    result.push({ group: group.groupId.slice(prefix.length), topics, total, members: group.members.length });
  }
  return result;
}

/** Deletes this run's topics and consumer groups (all carry the prefix) from the shared broker. */
export async function deleteRunArtifacts(admin: Admin, prefix: string): Promise<{ topics: number; groups: number }> {
  const { groups } = await admin.listGroups();
  const ours = groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
  if (ours.length > 0) await admin.deleteGroups(ours).catch(() => undefined);
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  return { topics: topics.length, groups: ours.length };
}
