import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { backoffDelay, DEFAULTS, errorText, maxBatchSize, retryPolicy, sleep } from './delivery.ts';
import { handleBatch, type DeliveryContext, type RawMessage } from './kafka-delivery.ts';
import type { SubscribeOptions, Subscription } from './types.ts';

// One subscribe() on the Kafka bus: a kafkajs consumer (eachBatch, auto-resolve and auto-commit
// off: kafka-delivery.ts resolves and commits), supervised. kafkajs gives up for good on errors it
// deems non-retriable — after a broker restart, typically "Failed to find group coordinator" while
// the broker loads its offsets (tulios/kafkajs#1445, #1630) — and the group would go unread until
// the process restarts. Such a consumer is replaced by a new one, with backoff, until one runs or
// the subscription stops.

export interface ConsumerTimings {
  sessionTimeout: number;
  rebalanceTimeout: number;
  heartbeatInterval: number;
}

export interface SubscriptionDeps {
  kafka: Kafka;
  timings: ConsumerTimings;
  logger: Logger;
  /** The broker's names of a topic and a group (GD_TOPIC_PREFIX), and back. */
  topicName(topic: string): string;
  groupName(groupId: string): string;
  logicalName(full: string): string;
  publishDlq(topic: string, message: RawMessage): Promise<void>;
}

export async function startKafkaSubscription(deps: SubscriptionDeps, options: SubscribeOptions): Promise<Subscription & { stop(): Promise<void> }> {
  const { groupId, topics } = options;
  const fromBeginning = options.fromBeginning ?? true;
  const log = deps.logger.child({ groupId: deps.groupName(groupId) });
  const abort = new AbortController();
  let stopping = false;
  let crashed = false;

  const makeConsumer = () => {
    const made = deps.kafka.consumer({
      groupId: deps.groupName(groupId),
      sessionTimeout: deps.timings.sessionTimeout,
      rebalanceTimeout: deps.timings.rebalanceTimeout,
      heartbeatInterval: deps.timings.heartbeatInterval,
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

  const context: DeliveryContext = {
    groupId,
    policy: retryPolicy(options),
    log,
    abort: abort.signal,
    isStopping: () => stopping,
    handler: options.handler,
    batchHandler: options.batchHandler,
    maxBatchSize: maxBatchSize(options),
    publishDlq: deps.publishDlq,
    topicName: deps.topicName,
    logicalName: deps.logicalName,
    heartbeatIntervalMs: deps.timings.heartbeatInterval,
  };
  const run = async (c: Consumer) => {
    await c.connect();
    await c.subscribe({ topics: topics.map(deps.topicName), fromBeginning });
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, options.concurrency ?? DEFAULTS.concurrency),
      eachBatch: (payload) => handleBatch(context, payload),
    });
  };

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
  return {
    isRunning: () => !stopping && !crashed,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        abort.abort();
        await replacing;
        // kafkajs waits for the running eachBatch (our in-flight handler) before leaving the group.
        await consumer.disconnect();
        log.debug({ topics }, 'unsubscribed');
      })();
      return stopped;
    },
  };
}
