import { Kafka, type Admin } from 'kafkajs';
import type { Logger } from 'pino';
import { DEFAULT_TOPIC_PREFIX, dlqTopic } from '@griddispatch/contracts';
import { sleep } from './delivery.ts';
import { ensureTopics, kafkajsLevel, pinoLogCreator } from './kafka-admin.ts';
import type { RawMessage } from './kafka-delivery.ts';
import { createProducerQueue } from './kafka-producer.ts';
import { startKafkaSubscription } from './kafka-subscription.ts';
import { loadTopicsFile, type TopicsFile } from './topics.ts';
import type { Bus, ConsumerLag, SubscribeOptions, Subscription } from './types.ts';

// The distributed mode's bus, on kafkajs 2.2.4, in four rooms: this file (topics, lag, the Bus
// interface), kafka-producer.ts (the one idempotent producer and its send queue),
// kafka-subscription.ts (a supervised consumer per subscribe()) and kafka-delivery.ts (a fetched
// batch → handlers, retries, DLQ, offsets).
// Consumer groups are namespaced like topics: group `sla-timer` is `<prefix>sla-timer` on the
// broker. Two deployments (or test runs) with different prefixes on one cluster would otherwise
// share a group while subscribing to different topics, and kafkajs' assignor hands each member
// partitions of topics it did not subscribe to (dropped with a warning): records go unread.

export interface KafkaBusOptions {
  brokers: string[] | string;
  /** GD_TOPIC_PREFIX. Default `griddispatch.`. */
  prefix?: string;
  clientId: string;
  logger: Logger;
  /** Topic definitions; default infra/kafka/topics.json. */
  topics?: TopicsFile;
  /** Overrides the file's replication factor for topics this bus creates. */
  replicationFactor?: number;
  /** Consumer group timings; the defaults make a join or rebalance take about a second. */
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** How long the producer retries a send before publish() rejects. Default 6 retries (~20 s). */
  publishRetries?: number;
}

interface ActiveSubscription {
  groupId: string;
  topics: string[];
  fromBeginning: boolean;
  /** High watermarks when a `fromBeginning: false` group joined: its floor until it commits. */
  floors: Map<string, number>;
  stop(): Promise<void>;
}

export function createKafkaBus(options: KafkaBusOptions): Bus {
  const prefix = options.prefix ?? DEFAULT_TOPIC_PREFIX;
  const logger = options.logger.child({ component: 'bus', bus: 'kafka' });
  const topicsFile = options.topics ?? loadTopicsFile();
  const brokers =
    typeof options.brokers === 'string'
      ? options.brokers
          .split(',')
          .map((b) => b.trim())
          .filter(Boolean)
      : options.brokers;
  const timings = {
    sessionTimeout: options.sessionTimeoutMs ?? 10_000,
    rebalanceTimeout: options.rebalanceTimeoutMs ?? 30_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 500,
  };
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers,
    logLevel: kafkajsLevel(logger),
    logCreator: pinoLogCreator(logger),
  });

  const topicName = (topic: string) => `${prefix}${topic}`;
  const groupName = (groupId: string) => `${prefix}${groupId}`;
  const logicalName = (full: string) => (full.startsWith(prefix) ? full.slice(prefix.length) : full);
  let closed = false;

  // --- admin: topic creation and lag --------------------------------------------------------
  let adminPromise: Promise<Admin> | null = null;
  function admin(): Promise<Admin> {
    adminPromise ??= (async () => {
      const client = kafka.admin();
      await client.connect();
      return client;
    })().catch((err: unknown) => {
      adminPromise = null;
      throw err;
    });
    return adminPromise;
  }

  const ensured = new Map<string, Promise<void>>();
  async function ensure(topics: string[]): Promise<void> {
    const missing = topics.filter((t) => !ensured.has(t));
    if (missing.length > 0) {
      const creating = (async () => {
        await ensureTopics(await admin(), topicsFile, prefix, missing, logger, options.replicationFactor);
      })();
      for (const t of missing) {
        ensured.set(
          t,
          creating.catch((err: unknown) => {
            ensured.delete(t);
            throw err;
          }),
        );
      }
    }
    await Promise.all(topics.map((t) => ensured.get(t)));
  }

  const producer = createProducerQueue(kafka, logger, options.publishRetries ?? 6);

  /** publish() for `OutgoingMessage`s, and for DLQ copies that keep the original bytes. */
  async function publish(topic: string, messages: RawMessage[]): Promise<void> {
    if (closed) throw new Error('bus is closed');
    if (messages.length === 0) return;
    await ensure([topic]);
    await producer.send(
      topicName(topic),
      messages.map((m) => ({ key: m.key, value: m.value, headers: { ...(m.headers ?? {}) } })),
    );
  }

  // --- consumers ------------------------------------------------------------------------------
  const subscriptions = new Set<ActiveSubscription>();

  async function subscribe(subscribeOptions: SubscribeOptions): Promise<Subscription> {
    if (closed) throw new Error('bus is closed');
    if (subscribeOptions.topics.length === 0) throw new Error('subscribe needs at least one topic');
    const { groupId, topics } = subscribeOptions;
    // DLQs are created up front so operators can tail them; a DLQ's own DLQ only when needed.
    await ensure([...topics, ...topics.filter((t) => !t.endsWith('.dlq')).map(dlqTopic)]);
    const fromBeginning = subscribeOptions.fromBeginning ?? true;
    const floors = new Map<string, number>();
    if (!fromBeginning) {
      const client = await admin();
      for (const topic of topics) {
        for (const p of await client.fetchTopicOffsets(topicName(topic))) floors.set(`${topic}:${p.partition}`, Number(p.high));
      }
    }
    const running = await startKafkaSubscription({ kafka, timings, logger, topicName, groupName, logicalName, publishDlq }, subscribeOptions);
    const active: ActiveSubscription = {
      groupId,
      topics,
      fromBeginning,
      floors,
      async stop() {
        await running.stop();
        subscriptions.delete(active);
      },
    };
    subscriptions.add(active);
    return { stop: () => active.stop(), isRunning: () => running.isRunning() };
  }

  async function publishDlq(topic: string, message: RawMessage): Promise<void> {
    await publish(dlqTopic(topic), [message]);
  }

  async function consumerLag(): Promise<ConsumerLag[]> {
    const client = await admin();
    const lags: ConsumerLag[] = [];
    const seen = new Set<string>();
    for (const sub of subscriptions) {
      if (seen.has(sub.groupId)) continue;
      seen.add(sub.groupId);
      const topics = [...new Set([...subscriptions].filter((s) => s.groupId === sub.groupId).flatMap((s) => s.topics))];
      const committed = await client.fetchOffsets({ groupId: groupName(sub.groupId), topics: topics.map(topicName) });
      for (const topic of topics) {
        const ends = await topicOffsets(client, topicName(topic));
        const group = committed.find((c) => c.topic === topicName(topic));
        for (const end of ends) {
          const high = Number(end.high);
          const raw = Number(group?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
          const floor = sub.fromBeginning ? Number(end.low) : (sub.floors.get(`${topic}:${end.partition}`) ?? high);
          const position = raw >= 0 ? raw : floor;
          lags.push({ groupId: sub.groupId, topic, partition: end.partition, committed: position, end: high, lag: Math.max(0, high - position) });
        }
      }
    }
    return lags;
  }

  /**
   * kafkajs 2.2.4's fetchTopicOffsets throws a TypeError (`low.pop(...)` is undefined) when its
   * metadata lacks the topic for a moment — while other topics of the cluster are created or
   * deleted — so a lag read (metrics, waitForIdle) would fail for nothing: asked again shortly.
   */
  async function topicOffsets(client: Admin, topic: string): ReturnType<Admin['fetchTopicOffsets']> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await client.fetchTopicOffsets(topic);
      } catch (err) {
        if (attempt >= 4 || !(err instanceof TypeError)) throw err;
        await sleep(100 * attempt);
      }
    }
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await Promise.all([...subscriptions].map((s) => s.stop()));
    await producer.close();
    const a = adminPromise;
    adminPromise = null;
    if (a) await a.then((c) => c.disconnect()).catch(() => undefined);
  }

  return { kind: 'kafka', topicName, publish, subscribe, consumerLag, close };
}
