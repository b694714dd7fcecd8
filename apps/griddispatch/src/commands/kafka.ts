import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Kafka, logLevel, type Admin, type Consumer, type KafkaMessage } from 'kafkajs';
import { ALL_TOPICS, dlqTopic, EXTERNAL_TOPICS } from '@griddispatch/contracts';
import { CliError, UsageError, type CliConfig } from './io.ts';

// Kafka access for the operator commands, straight on kafkajs rather than through the Bus: the
// tools read without committing (tail, dlq list) or commit on purpose (dlq replay), never retry
// or dead-letter, and must show records that do not even parse.

export const NO_KAFKA_MESSAGE =
  'this command reads Kafka, and KAFKA_BROKERS is not set. In the embedded mode (`pnpm start` without ' +
  'KAFKA_BROKERS) the bus lives inside the server process, where nothing outside can subscribe. ' +
  'Use `griddispatch requests list` (and `requests show <id>`) to follow requests over HTTP, or run the ' +
  'stack with Kafka and set KAFKA_BROKERS (e.g. KAFKA_BROKERS=127.0.0.1:9092).';

export function requireBrokers(config: CliConfig): string[] {
  if (!config.kafkaBrokers) throw new CliError(NO_KAFKA_MESSAGE);
  return config.kafkaBrokers;
}

export function createKafka(brokers: string[], clientId = 'griddispatch-cli'): Kafka {
  return new Kafka({
    clientId,
    brokers,
    // Operators get one clear error from us instead of kafkajs' retry chatter.
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
  });
}

/**
 * Accepts a logical topic (`dispatch.assigned`, `sla.breaches.dlq`) or its full name with the
 * prefix; returns the logical name.
 */
export function logicalTopic(name: string, prefix: string, { allowDlq = true, allowExternal = false } = {}): string {
  const logical = name.startsWith(prefix) ? name.slice(prefix.length) : name;
  const known: string[] = [...ALL_TOPICS, ...(allowDlq ? ALL_TOPICS.map(dlqTopic) : []), ...(allowExternal ? EXTERNAL_TOPICS : [])];
  if (!known.includes(logical)) throw new UsageError(`unknown topic "${name}"; topics: ${known.join(', ')}`);
  return logical;
}

/** A consumer group no one else uses, so a tool never takes partitions from a service's group. */
export function throwawayGroupId(tool: string): string {
  return `griddispatch-${tool}-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export async function connectAdmin(kafka: Kafka, brokers: string[]): Promise<Admin> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new CliError(`cannot reach Kafka at ${brokers.join(',')}: ${(err as Error).message}`);
  }
  return admin;
}

/** Fails clearly when a topic does not exist (a wrong GD_TOPIC_PREFIX is the usual cause). */
export async function requireTopics(admin: Admin, topics: string[], prefix: string): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    throw new CliError(`topic ${missing.join(', ')} does not exist on the broker (GD_TOPIC_PREFIX is "${prefix}")`);
  }
}

export interface PartitionRange {
  partition: number;
  /** First offset to read. */
  from: number;
  /** Read up to, not including, this offset (the high watermark when the read started). */
  to: number;
}

export interface ReadRecord {
  partition: number;
  offset: number;
  message: KafkaMessage;
}

export interface ReadRangesOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  ranges: PartitionRange[];
  /** Gives up after this long (a partition whose leader is away must not hang the tool). */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Runs while the consumer is still a member of its group (to commit offsets), after the read. */
  whileMember?: (consumer: Consumer, records: ReadRecord[]) => Promise<void>;
}

/**
 * Reads the given offset ranges of one topic and stops: seeks each partition to `from`, collects
 * records until every range reached `to`. Nothing is committed unless `whileMember` does it.
 */
export async function readRanges(options: ReadRangesOptions): Promise<ReadRecord[]> {
  const ranges = options.ranges.filter((r) => r.to > r.from);
  if (ranges.length === 0) return [];
  const byPartition = new Map(ranges.map((r) => [r.partition, r]));
  const pending = new Set(ranges.map((r) => r.partition));
  // Keyed by position: a batch fetched before the seek took effect may be read again after it.
  const records = new Map<string, ReadRecord>();
  const consumer = options.kafka.consumer({
    groupId: options.groupId,
    maxWaitTimeInMs: 250,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    allowAutoTopicCreation: false,
  });
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, isStale }) => {
        const range = byPartition.get(batch.partition);
        if (!range || isStale()) return;
        for (const message of batch.messages) {
          const offset = Number(message.offset);
          if (offset >= range.from && offset < range.to) records.set(`${batch.partition}:${offset}`, { partition: batch.partition, offset, message });
          if (offset >= range.to - 1) {
            pending.delete(batch.partition);
            break;
          }
        }
        if (pending.size === 0) done();
      },
    });
    for (const r of ranges) consumer.seek({ topic: options.topic, partition: r.partition, offset: String(r.from) });

    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      finished.then(() => 'done' as const),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), options.timeoutMs))),
      new Promise<'aborted'>((resolve) => options.signal?.addEventListener('abort', () => resolve('aborted'), { once: true })),
    ]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      throw new CliError(`read of ${options.topic} did not finish in ${options.timeoutMs / 1000}s (partitions ${[...pending].join(', ')} still behind)`);
    }
    if (outcome === 'aborted') throw new CliError('interrupted');
    await consumer.pause([{ topic: options.topic }]);
    const sorted = [...records.values()].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    if (options.whileMember) await options.whileMember(consumer, sorted);
    return sorted;
  } finally {
    await consumer.disconnect();
  }
}

/** Low and high watermark per partition. */
export async function watermarks(admin: Admin, topic: string): Promise<{ partition: number; low: number; high: number }[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) })).sort((a, b) => a.partition - b.partition);
}

export function headerStrings(message: KafkaMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}
