import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';

// Every record of every topic under a prefix, read from the beginning by a throwaway consumer
// group up to the end offsets taken when the read starts, raw (value bytes, header Buffers) as
// any Kafka client would see them.

export interface RawRecord {
  /** Full topic name. */
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
}

export function kafkaClient(brokers: string[], clientId: string): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
}

/** Names of the topics that start with `prefix`. */
export async function topicsWithPrefix(kafka: Kafka, prefix: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).filter((t) => t.startsWith(prefix)).sort();
  } finally {
    await admin.disconnect();
  }
}

export async function readAllRecords(kafka: Kafka, topics: string[], timeoutMs = 30_000): Promise<RawRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `e2e-reader-${randomBytes(4).toString('hex')}`;
  const remaining = new Map<string, number>(); // topic:partition → last offset still to read
  try {
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (Number(p.high) > Number(p.low)) remaining.set(`${topic}:${p.partition}`, Number(p.high) - 1);
      }
    }
    if (remaining.size === 0) return [];
    const records = new Map<string, RawRecord>();
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.connect();
    try {
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          const where = `${topic}:${partition}`;
          const last = remaining.get(where);
          if (last === undefined || Number(message.offset) > last) return;
          // Keyed by position: a rebalance may hand a partition back and repeat a fetch.
          records.set(`${where}:${message.offset}`, {
            topic,
            partition,
            offset: message.offset,
            key: message.key?.toString('utf8') ?? null,
            value: message.value,
            headers: message.headers ?? {},
          });
          if (Number(message.offset) === last) {
            remaining.delete(where);
            if (remaining.size === 0) done();
          }
        },
      });
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
      if ((await Promise.race([finished, timer])) === 'timeout') throw new Error(`reading the topics timed out; unread: ${[...remaining.keys()].join(', ')}`);
    } finally {
      await consumer.disconnect();
    }
    return [...records.values()];
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

/** Removes a test run's topics and consumer groups (the services' groups carry the prefix) from the shared broker. */
export async function deleteRun(kafka: Kafka, prefix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}
