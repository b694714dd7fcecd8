import { Kafka, Partitioners, type Admin, type Consumer, type EachBatchPayload, type IHeaders, type KafkaMessage, type Message, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { DEFAULT_TOPIC_PREFIX, dlqTopic } from '@griddispatch/contracts';
import { backoffDelay, deadLetterNow, DEFAULTS, maxBatchSize, dlqHeaders, errorText, isDependencyUnavailable, retryDelay, retryPolicy, sleep, type RetryPolicy } from './delivery.ts';
import { ensureTopics, kafkajsLevel, pinoLogCreator } from './kafka-admin.ts';
import { loadTopicsFile, type TopicsFile } from './topics.ts';
import type { Bus, ConsumerLag, IncomingMessage, OutgoingMessage, SubscribeOptions, Subscription } from './types.ts';

// The distributed mode's bus, on kafkajs 2.2.4.
// - Producer: idempotent, acks=all. Idempotent kafkajs producers lose records when several
//   sends to one partition overlap (tulios/kafkajs#1005), so publish() calls are queued and sent
//   one request at a time; calls that arrive while a request is out are coalesced into the next.
//   Its retries are bounded (publishRetries) so publish() rejects while the broker is away and
//   the outbox relay backs off; a republished record may then land twice, which consumers'
//   inboxes absorb (docs/architecture.md#reliability-rules).
// - Consumers: one kafkajs consumer per subscribe(), eachBatch with auto-resolve and auto-commit
//   off: an offset is resolved only after its handler (or the batch handler of its chunk)
//   resolved, or the record reached the DLQ, and committed at the end of each fetched batch,
//   every 100 records, and before a rebalance or stop.
// - Consumer groups are namespaced like topics: group `sla-timer` is `<prefix>sla-timer` on the
//   broker. Two deployments (or test runs) with different prefixes on one cluster would otherwise
//   share a group while subscribing to different topics, and kafkajs' assignor hands each member
//   partitions of topics it did not subscribe to (dropped with a warning): records go unread.

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

const COMMIT_EVERY = 100;
const MAX_RECORDS_PER_SEND = 5000;

type RawMessage = Omit<OutgoingMessage, 'value'> & { value: string | Buffer };

interface PendingPublish {
  topic: string;
  messages: Message[];
  resolve: () => void;
  reject: (err: unknown) => void;
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
  const brokers = typeof options.brokers === 'string' ? options.brokers.split(',').map((b) => b.trim()).filter(Boolean) : options.brokers;
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

  // --- producer -------------------------------------------------------------------------------
  let producerPromise: Promise<Producer> | null = null;
  function producer(): Promise<Producer> {
    producerPromise ??= (async () => {
      const p = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: options.publishRetries ?? 6 },
      });
      await p.connect();
      return p;
    })().catch((err: unknown) => {
      producerPromise = null;
      throw err;
    });
    return producerPromise;
  }

  /** After a failed send the sequence numbers may be off: start over with a fresh producer id. */
  async function resetProducer(): Promise<void> {
    const current = producerPromise;
    producerPromise = null;
    if (current) await current.then((p) => p.disconnect()).catch(() => undefined);
  }

  const queue: PendingPublish[] = [];
  let sending: Promise<void> | null = null;

  function pump(): void {
    if (sending) return;
    sending = (async () => {
      while (queue.length > 0) {
        const batch: PendingPublish[] = [];
        let records = 0;
        while (queue.length > 0 && (batch.length === 0 || records + (queue[0]?.messages.length ?? 0) <= MAX_RECORDS_PER_SEND)) {
          const next = queue.shift() as PendingPublish;
          batch.push(next);
          records += next.messages.length;
        }
        const byTopic = new Map<string, Message[]>();
        for (const item of batch) {
          const list = byTopic.get(item.topic) ?? [];
          list.push(...item.messages);
          byTopic.set(item.topic, list);
        }
        try {
          const p = await producer();
          await p.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
          for (const item of batch) item.resolve();
        } catch (err) {
          logger.error({ err, records }, 'publish failed');
          for (const item of batch) item.reject(err);
          await resetProducer();
        }
      }
    })().finally(() => {
      sending = null;
      if (queue.length > 0) pump();
    });
  }

  /** publish() for `OutgoingMessage`s, and for DLQ copies that keep the original bytes. */
  async function publish(topic: string, messages: RawMessage[]): Promise<void> {
    if (closed) throw new Error('bus is closed');
    if (messages.length === 0) return;
    await ensure([topic]);
    const records: Message[] = messages.map((m) => ({ key: m.key, value: m.value, headers: { ...(m.headers ?? {}) } }));
    await new Promise<void>((resolve, reject) => {
      queue.push({ topic: topicName(topic), messages: records, resolve, reject });
      pump();
    });
  }

  // --- consumers ------------------------------------------------------------------------------
  const subscriptions = new Set<ActiveSubscription>();

  async function subscribe(subscribeOptions: SubscribeOptions): Promise<Subscription> {
    if (closed) throw new Error('bus is closed');
    if (subscribeOptions.topics.length === 0) throw new Error('subscribe needs at least one topic');
    const { groupId, topics } = subscribeOptions;
    // DLQs are created up front so operators can tail them; a DLQ's own DLQ only when needed.
    await ensure([...topics, ...topics.filter((t) => !t.endsWith('.dlq')).map(dlqTopic)]);
    const policy = retryPolicy(subscribeOptions);
    const fromBeginning = subscribeOptions.fromBeginning ?? true;
    const log = logger.child({ groupId: groupName(groupId) });
    const abort = new AbortController();
    let stopping = false;
    let crashed = false;

    const makeConsumer = () => {
      const made = kafka.consumer({
        groupId: groupName(groupId),
        sessionTimeout: timings.sessionTimeout,
        rebalanceTimeout: timings.rebalanceTimeout,
        heartbeatInterval: timings.heartbeatInterval,
        // Bounds how long stop() waits for an idle fetch and how late a rebalance is noticed.
        maxWaitTimeInMs: 500,
        allowAutoTopicCreation: false,
        retry: { restartOnFailure: async () => !stopping },
      });
      made.on(made.events.CRASH, ({ payload }) => {
        log.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
        if (payload.restart || made !== consumer || stopping) return;
        crashed = true;
        replaceCrashed();
      });
      return made;
    };
    let consumer = makeConsumer();

    const floors = new Map<string, number>();
    if (!fromBeginning) {
      const client = await admin();
      for (const topic of topics) {
        for (const p of await client.fetchTopicOffsets(topicName(topic))) floors.set(`${topic}:${p.partition}`, Number(p.high));
      }
    }

    const context: DeliveryContext = { groupId, policy, log, abort: abort.signal, isStopping: () => stopping, handler: subscribeOptions.handler, batchHandler: subscribeOptions.batchHandler, maxBatchSize: maxBatchSize(subscribeOptions), publishDlq, topicName, logicalName, heartbeatIntervalMs: timings.heartbeatInterval };
    const run = async (c: Consumer) => {
      await c.connect();
      await c.subscribe({ topics: topics.map(topicName), fromBeginning });
      await c.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.max(1, subscribeOptions.concurrency ?? DEFAULTS.concurrency),
        eachBatch: (payload) => handleBatch(context, payload),
      });
    };

    // kafkajs gives up for good on errors it deems non-retriable — after a broker restart,
    // typically "Failed to find group coordinator" while the broker loads its offsets
    // (tulios/kafkajs#1445, #1630) — and the group would go unread until the process restarts.
    // Such a consumer is replaced by a new one, with backoff, until one runs or the subscription stops.
    let replacing: Promise<void> | null = null;
    function replaceCrashed(): void {
      replacing ??= (async () => {
        for (let attempt = 1; !stopping; attempt += 1) {
          await sleep(backoffDelay({ maxAttempts: Infinity, retryBackoffMs: 1_000, maxRetryBackoffMs: 30_000 }, Math.min(attempt, 10)), abort.signal);
          if (stopping) break;
          const next = makeConsumer();
          consumer = next;
          try {
            await run(next);
            crashed = false;
            log.warn({ attempt }, 'crashed consumer replaced; consuming again');
            break;
          } catch (err) {
            log.error({ err: errorText(err), attempt }, 'could not replace the crashed consumer; retrying');
            await next.disconnect().catch(() => undefined);
          }
        }
      })().finally(() => {
        replacing = null;
        // A replacement that crashed the moment it started is replaced in turn.
        if (crashed && !stopping) replaceCrashed();
      });
    }

    try {
      await run(consumer);
    } catch (err) {
      stopping = true;
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
    log.debug({ topics }, 'subscribed');

    let stopped: Promise<void> | null = null;
    const active: ActiveSubscription = {
      groupId,
      topics,
      fromBeginning,
      floors,
      stop() {
        stopped ??= (async () => {
          stopping = true;
          abort.abort();
          await replacing;
          // kafkajs waits for the running eachBatch (our in-flight handler) before leaving the group.
          await consumer.disconnect();
          subscriptions.delete(active);
          log.debug({ topics }, 'unsubscribed');
        })();
        return stopped;
      },
    };
    subscriptions.add(active);
    return { stop: () => active.stop(), isRunning: () => !stopping && !crashed };
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
        const ends = await client.fetchTopicOffsets(topicName(topic));
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

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await Promise.all([...subscriptions].map((s) => s.stop()));
    while (sending) await sending;
    await resetProducer();
    const a = adminPromise;
    adminPromise = null;
    if (a) await a.then((c) => c.disconnect()).catch(() => undefined);
  }

  return { kind: 'kafka', topicName, publish, subscribe, consumerLag, close };
}

interface DeliveryContext {
  groupId: string;
  policy: RetryPolicy;
  log: Logger;
  abort: AbortSignal;
  isStopping(): boolean;
  handler: SubscribeOptions['handler'];
  batchHandler: SubscribeOptions['batchHandler'];
  maxBatchSize: number;
  publishDlq(topic: string, message: RawMessage): Promise<void>;
  topicName(topic: string): string;
  logicalName(full: string): string;
  heartbeatIntervalMs: number;
}

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

/**
 * One partition's batch, in order: in chunks through the batch handler when there is one (a
 * failed chunk through the record path), else record by record. Stops early (leaving the rest
 * unresolved, so it is fetched again) when the consumer stops, the partition was revoked, or a
 * rebalance started.
 */
async function handleBatch(ctx: DeliveryContext, payload: EachBatchPayload): Promise<void> {
  const { batch } = payload;
  const topic = ctx.logicalName(batch.topic);
  let sinceCommit = 0;
  const commit = async () => {
    sinceCommit = 0;
    await payload.commitOffsetsIfNecessary(payload.uncommittedOffsets());
  };
  const running = () => payload.isRunning() && !payload.isStale() && !ctx.isStopping();
  try {
    const records = batch.messages;
    const size = ctx.batchHandler ? ctx.maxBatchSize : 1;
    for (let start = 0; start < records.length && running(); start += size) {
      const chunk = records.slice(start, start + size);
      const whole: ChunkOutcome = ctx.batchHandler ? await deliverChunk(ctx, payload, topic, batch.partition, chunk) : { outcome: 'failed' };
      if (whole.outcome === 'done') payload.resolveOffset((chunk[chunk.length - 1] as KafkaMessage).offset);
      if (whole.heartbeatError) throw whole.heartbeatError;
      if (whole.outcome === 'abandoned') break;
      if (whole.outcome === 'failed') {
        for (const record of chunk) {
          if (!running()) return;
          const { outcome, heartbeatError } = await deliver(ctx, payload, topic, batch.partition, record);
          if (outcome === 'done') payload.resolveOffset(record.offset);
          // kafkajs rejoins the group when eachBatch throws the heartbeat's rebalance error.
          if (heartbeatError) throw heartbeatError;
          if (outcome === 'abandoned') return;
        }
      }
      sinceCommit += chunk.length;
      if (sinceCommit >= COMMIT_EVERY) await commit();
    }
  } finally {
    // Also before a rebalance: what was handled is committed before the partitions move.
    await commit().catch((err: unknown) => ctx.log.warn({ err: errorText(err), topic, partition: batch.partition }, 'offset commit failed; records since the last commit will be redelivered'));
  }
}

const incoming = (topic: string, partition: number, record: KafkaMessage, attempt: number): IncomingMessage => ({
  topic,
  key: record.key?.toString() ?? '',
  value: record.value ?? Buffer.alloc(0),
  headers: headersOf(record.headers),
  partition,
  offset: record.offset,
  attempt,
});

/** 'failed' hands the chunk to the record path (retries, DLQ). */
type ChunkOutcome = { outcome: 'done' | 'failed' | 'abandoned'; heartbeatError?: unknown };

async function deliverChunk(ctx: DeliveryContext, payload: EachBatchPayload, topic: string, partition: number, records: KafkaMessage[]): Promise<ChunkOutcome> {
  const messages = records.map((record) => incoming(topic, partition, record, 1));
  let failure: { err: unknown } | null = null;
  const heartbeatError = await withHeartbeats(ctx, payload, async () => {
    try {
      await ctx.batchHandler?.(messages);
    } catch (err) {
      failure = { err };
    }
  });
  if (!failure) return { outcome: 'done', heartbeatError };
  const { err } = failure as { err: unknown };
  if (ctx.isStopping() || heartbeatError) return { outcome: 'abandoned', heartbeatError };
  ctx.log.warn({ topic, partition, offset: records[0]?.offset, records: records.length, err: errorText(err) }, 'batch failed; applying its records one by one');
  return { outcome: 'failed' };
}

type Outcome = { outcome: 'done' | 'abandoned'; heartbeatError?: unknown };

async function deliver(ctx: DeliveryContext, payload: EachBatchPayload, topic: string, partition: number, record: KafkaMessage): Promise<Outcome> {
  for (let attempt = 1; ; attempt += 1) {
    const message = incoming(topic, partition, record, attempt);
    let failure: { err: unknown } | null = null;
    const heartbeatError = await withHeartbeats(ctx, payload, async () => {
      try {
        await ctx.handler(message);
      } catch (err) {
        failure = { err };
      }
    });
    if (!failure) return { outcome: 'done', heartbeatError };
    const { err } = failure as { err: unknown };
    const where = { topic, partition, offset: record.offset, attempt };
    if (ctx.isStopping()) {
      ctx.log.info({ ...where, err: errorText(err) }, 'handler failed while stopping; record left uncommitted for the next consumer');
      return { outcome: 'abandoned' };
    }
    if (heartbeatError) {
      ctx.log.warn({ ...where, err: errorText(err) }, 'handler failed during a rebalance; the partition\'s next owner retries it');
      return { outcome: 'abandoned', heartbeatError };
    }
    if (deadLetterNow(ctx.policy, err, attempt)) {
      ctx.log.error({ ...where, err }, 'record dead-lettered');
      const dlq = { key: message.key, value: message.value, headers: dlqHeaders(headersOf(record.headers), err, attempt, { topic: ctx.topicName(topic), partition, offset: record.offset, groupId: ctx.groupId }) };
      return publishDlqUntilDone(ctx, payload, topic, dlq);
    }
    const delay = retryDelay(ctx.policy, err, attempt);
    ctx.log.warn({ ...where, err: errorText(err), retryInMs: delay }, isDependencyUnavailable(err) ? 'handler failed: a dependency is unreachable; retrying until it answers' : 'handler failed; retrying');
    const interrupted = await sleepWithHeartbeats(ctx, payload, delay);
    if (interrupted) return { outcome: 'abandoned', heartbeatError: interrupted };
    if (ctx.isStopping()) return { outcome: 'abandoned' };
  }
}

/** The DLQ write must land before the offset moves on ("never acknowledge and drop"). */
async function publishDlqUntilDone(ctx: DeliveryContext, payload: EachBatchPayload, topic: string, message: RawMessage): Promise<Outcome> {
  for (let attempt = 1; !ctx.isStopping(); attempt += 1) {
    try {
      await ctx.publishDlq(topic, message);
      return { outcome: 'done' };
    } catch (err) {
      const delay = backoffDelay({ maxAttempts: Infinity, retryBackoffMs: 500, maxRetryBackoffMs: 30_000 }, attempt);
      ctx.log.error({ err: errorText(err), topic, retryInMs: delay }, 'could not write to the DLQ; retrying');
      const interrupted = await sleepWithHeartbeats(ctx, payload, delay);
      if (interrupted) return { outcome: 'abandoned', heartbeatError: interrupted };
    }
  }
  return { outcome: 'abandoned' };
}

/**
 * kafkajs heartbeats only between batches; a slow handler or a long backoff would otherwise be
 * taken for a dead consumer. Returns the heartbeat's error (a rebalance, usually), if any, for
 * the caller to rethrow once the record's outcome is settled; `work` gets a signal that aborts
 * on such an error.
 */
async function withHeartbeats(ctx: DeliveryContext, payload: EachBatchPayload, work: (signal: AbortSignal) => Promise<void>): Promise<unknown> {
  let heartbeatError: unknown = undefined;
  const interrupt = new AbortController();
  const timer = setInterval(() => {
    payload.heartbeat().catch((err: unknown) => {
      heartbeatError ??= err;
      interrupt.abort();
    });
  }, ctx.heartbeatIntervalMs);
  try {
    await work(interrupt.signal);
  } finally {
    clearInterval(timer);
  }
  return heartbeatError;
}

async function sleepWithHeartbeats(ctx: DeliveryContext, payload: EachBatchPayload, ms: number): Promise<unknown> {
  return withHeartbeats(ctx, payload, (interrupted) => sleep(ms, AbortSignal.any([ctx.abort, interrupted])));
}
