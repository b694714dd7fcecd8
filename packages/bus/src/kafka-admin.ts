import type { Admin, logCreator } from 'kafkajs';
import { logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import { topicDefinition, type TopicsFile } from './topics.ts';

export interface EnsuredTopic {
  /** Full name on the broker (prefix included). */
  topic: string;
  partitions: number;
  created: boolean;
}

/**
 * Creates the missing ones among `logical` topics (prefix applied) with the partition count and
 * config of infra/kafka/topics.json. Existing topics are left alone: shrinking is impossible and
 * growing moves keys between partitions, which an operator must decide; a mismatch is logged.
 */
export async function ensureTopics(
  admin: Admin,
  file: TopicsFile,
  prefix: string,
  logical: string[],
  logger: Logger,
  replicationFactor = file.defaults.replicationFactor,
): Promise<EnsuredTopic[]> {
  const wanted = [...new Set(logical)].map((name) => ({ definition: topicDefinition(file, name), topic: `${prefix}${name}` }));
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((w) => !existing.has(w.topic));
  if (missing.length > 0) {
    await admin.createTopics({
      // kafkajs' own wait gives up on UNKNOWN_TOPIC_OR_PARTITION, which a busy KRaft broker
      // answers for a moment after creating a topic; waitForLeaders() below tolerates it.
      waitForLeaders: false,
      topics: missing.map((w) => ({
        topic: w.topic,
        numPartitions: w.definition.partitions,
        replicationFactor,
        configEntries: Object.entries(w.definition.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    await waitForLeaders(
      admin,
      missing.map((w) => w.topic),
    );
    logger.info({ topics: missing.map((w) => w.topic) }, 'created Kafka topics');
  }
  const present = wanted.filter((w) => existing.has(w.topic));
  const counts = new Map<string, number>();
  if (present.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: present.map((w) => w.topic) });
    for (const t of metadata.topics) counts.set(t.name, t.partitions.length);
  }
  return wanted.map((w) => {
    if (!existing.has(w.topic)) return { topic: w.topic, partitions: w.definition.partitions, created: true };
    const partitions = counts.get(w.topic) ?? 0;
    if (partitions !== w.definition.partitions) {
      logger.warn({ topic: w.topic, partitions, defined: w.definition.partitions }, 'topic exists with a partition count other than infra/kafka/topics.json');
    }
    return { topic: w.topic, partitions, created: false };
  });
}

const NOT_YET_THERE = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/** Until every partition of `topics` has a leader, so producers and consumers can use them. */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const ready =
        metadata.topics.length === topics.length && metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      if (ready) return;
    } catch (err) {
      if (!NOT_YET_THERE.has((err as { type?: string }).type ?? '')) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics have no leader after ${timeoutMs} ms: ${topics.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const PINO_TO_KAFKAJS: [number, logLevel][] = [
  [20, logLevel.DEBUG],
  [30, logLevel.INFO],
  [40, logLevel.WARN],
  [50, logLevel.ERROR],
];

/** kafkajs log level matching the pino logger's, so kafkajs does not build lines pino drops. */
export function kafkajsLevel(logger: Logger): logLevel {
  if (!Number.isFinite(logger.levelVal)) return logLevel.NOTHING;
  for (const [pinoLevel, level] of PINO_TO_KAFKAJS) if (logger.levelVal <= pinoLevel) return level;
  return logLevel.ERROR;
}

const BOUNDED_RETRIES_WARNING = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

/** kafkajs' text for REBALANCE_IN_PROGRESS (logged by its connection for Heartbeat / SyncGroup answers). */
const REBALANCING = 'The group is rebalancing, so a rejoin is needed';

/** kafkajs' own logging (joins, rebalances, retries) as pino lines tagged `kafkajs: <namespace>`. */
export function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _logger, ...fields } = log;
      const entry = { kafkajs: namespace, ...fields };
      // The bus bounds the idempotent producer's retries on purpose (publish() must fail while
      // the broker is down, for the outbox relay to back off); that is not worth a warning at every boot.
      if (message === BOUNDED_RETRIES_WARNING) logger.debug(entry, message);
      // A replica joining or leaving makes every member's heartbeat answer "rebalancing" once;
      // kafkajs logs that as an error although the consumer simply rejoins.
      else if (level === logLevel.ERROR && (fields as { error?: unknown }).error === REBALANCING) logger.info(entry, message);
      else if (level === logLevel.ERROR) logger.error(entry, message);
      else if (level === logLevel.WARN) logger.warn(entry, message);
      else if (level === logLevel.INFO) logger.info(entry, message);
      else logger.debug(entry, message);
    };
}
