import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { ALL_TOPICS, dlqTopic, Topics } from '@griddispatch/contracts';

// What the suite reads straight from the broker: every record of every topic (to count ids and
// event ids), the consumer groups' lag (to know when the stack is quiet) and a way to put poison
// records on a topic (to check that the DLQs hold exactly those).

export interface LoggedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  headers: Record<string, string>;
  /** The parsed CloudEvent, or null for a record that is not JSON (poison). */
  event: { id: string; type: string; subject?: string; data?: Record<string, unknown> } | null;
}

export const DLQ_TOPICS = ALL_TOPICS.map(dlqTopic);

/** The consumer groups the four services declare (the bus puts the topic prefix in front), with the topics each consumes. */
export const SERVICE_GROUPS: Record<string, string[]> = {
  'intake.read-model': [Topics.dispatchAssigned, Topics.dispatchUnroutable, Topics.workordersEvents, Topics.slaWarnings, Topics.slaBreaches],
  'grid-routing': [Topics.requestsReceived],
  'sla-timer': [Topics.dispatchAssigned, Topics.workordersEvents],
  ...Object.fromEntries(
    [Topics.dispatchAssigned, Topics.dispatchUnroutable, Topics.workordersEvents, Topics.slaWarnings, Topics.slaBreaches].map((t) => [
      `notification.${t}`,
      [t],
    ]),
  ),
};

export class KafkaLog {
  private readonly kafka: Kafka;
  private adminClient: Promise<Admin> | null = null;

  constructor(
    brokers: string,
    private readonly prefix: string,
  ) {
    this.kafka = new Kafka({ clientId: 'faults-audit', brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
  }

  private admin(): Promise<Admin> {
    this.adminClient ??= (async () => {
      const a = this.kafka.admin();
      await a.connect();
      return a;
    })().catch((err: unknown) => {
      this.adminClient = null;
      throw err;
    });
    return this.adminClient;
  }

  /** Drop the admin connection (after the broker restarted, or on error). */
  async reset(): Promise<void> {
    const a = this.adminClient;
    this.adminClient = null;
    if (a) await a.then((c) => c.disconnect()).catch(() => undefined);
  }

  /** Unhandled records per service group (committed offset against the high watermark). */
  async lag(): Promise<Record<string, number>> {
    try {
      const existing = new Set(await (await this.admin()).listTopics());
      const out: Record<string, number> = {};
      for (const groupId of Object.keys(SERVICE_GROUPS)) {
        out[groupId] = (await this.partitionLags(groupId, existing)).reduce((sum, p) => sum + p.lag, 0);
      }
      return out;
    } catch (err) {
      await this.reset();
      throw err;
    }
  }

  /** A group's unhandled records per partition of its topics (`existing`: the broker's topic names). */
  private async partitionLags(groupId: string, existing: Set<string>): Promise<{ topic: string; partition: number; lag: number }[]> {
    const admin = await this.admin();
    const present = (SERVICE_GROUPS[groupId] ?? []).filter((t) => existing.has(this.prefix + t));
    const committed = await admin.fetchOffsets({ groupId: this.prefix + groupId, topics: present.map((t) => this.prefix + t) });
    const out: { topic: string; partition: number; lag: number }[] = [];
    for (const topic of present) {
      const group = committed.find((c) => c.topic === this.prefix + topic);
      for (const end of await admin.fetchTopicOffsets(this.prefix + topic)) {
        const raw = Number(group?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
        out.push({ topic, partition: end.partition, lag: Math.max(0, Number(end.high) - (raw >= 0 ? raw : Number(end.low))) });
      }
    }
    return out;
  }

  /**
   * A lagging group at a glance, for a scenario that does not come back to quiet: its state, how
   * many members it has and which partitions are behind (`topic[partition]=lag`).
   */
  async describeGroup(groupId: string): Promise<string> {
    const admin = await this.admin();
    const group = (await admin.describeGroups([this.prefix + groupId])).groups[0];
    const behind = (await this.partitionLags(groupId, new Set(await admin.listTopics())))
      .filter((p) => p.lag > 0)
      .map((p) => `${p.topic}[${p.partition}]=${p.lag}`);
    return `${groupId}: ${group?.state ?? 'unknown'}, ${group?.members.length ?? 0} members, behind ${behind.join(' ') || 'nowhere'}`;
  }

  /** Every record of the logical topics, from the beginning up to their ends right now. */
  async readAll(topics: readonly string[] = [...ALL_TOPICS, ...DLQ_TOPICS]): Promise<LoggedRecord[]> {
    const admin = await this.admin();
    const existing = new Set(await admin.listTopics());
    const wanted = topics.filter((t) => existing.has(this.prefix + t));
    const remaining = new Map<string, number>(); // topic:partition → high watermark
    for (const topic of wanted) {
      for (const p of await admin.fetchTopicOffsets(this.prefix + topic)) {
        if (Number(p.high) > Number(p.low)) remaining.set(`${this.prefix + topic}:${p.partition}`, Number(p.high));
      }
    }
    const records: LoggedRecord[] = [];
    if (remaining.size === 0) return records;
    const groupId = `faults-audit-${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: wanted.map((t) => this.prefix + t), fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`reading the topics timed out; ${remaining.size} partitions left`)), 120_000);
        consumer
          .run({
            eachMessage: async ({ topic, partition, message }) => {
              const slot = `${topic}:${partition}`;
              const high = remaining.get(slot);
              if (high === undefined || Number(message.offset) >= high) return;
              const headers: Record<string, string> = {};
              for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = (Array.isArray(v) ? v[0] : v)?.toString() ?? '';
              let event: LoggedRecord['event'] = null;
              try {
                const parsed = JSON.parse(message.value?.toString('utf8') ?? '') as LoggedRecord['event'];
                if (parsed && typeof parsed === 'object' && typeof parsed.id === 'string') event = parsed;
              } catch {
                event = null;
              }
              records.push({ topic: topic.slice(this.prefix.length), partition, offset: message.offset, key: message.key?.toString() ?? '', headers, event });
              if (Number(message.offset) + 1 >= high) {
                remaining.delete(slot);
                if (remaining.size === 0) {
                  clearTimeout(timer);
                  resolve();
                }
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return records;
  }

  /** Malformed records (not JSON) on a topic: each must end in the topic's DLQ, once per consuming group. */
  async injectPoison(topic: string, key: string): Promise<void> {
    const producer = this.kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic: this.prefix + topic, messages: [{ key, value: `{"poison": ${JSON.stringify(key)}, not json` }] });
    } finally {
      await producer.disconnect();
    }
  }

  async close(): Promise<void> {
    await this.reset();
  }
}
