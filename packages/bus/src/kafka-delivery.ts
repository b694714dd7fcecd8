import type { EachBatchPayload, IHeaders, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { backoffDelay, deadLetterNow, dlqHeaders, errorText, isDependencyUnavailable, retryDelay, sleep, type RetryPolicy } from './delivery.ts';
import type { IncomingMessage, OutgoingMessage, SubscribeOptions } from './types.ts';

// Delivery on the Kafka bus: one fetched partition batch → the batch handler in chunks (a failed
// chunk through the record path) or the record handler, with retries, the DLQ and heartbeats
// while a handler runs. An offset is resolved only once its record is handled or dead-lettered;
// commits happen every COMMIT_EVERY records and at the end of each fetched batch.

const COMMIT_EVERY = 100;

/** An outgoing record whose value may be the original bytes (a DLQ copy). */
export type RawMessage = Omit<OutgoingMessage, 'value'> & { value: string | Buffer };

export interface DeliveryContext {
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
export async function handleBatch(ctx: DeliveryContext, payload: EachBatchPayload): Promise<void> {
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
    await commit().catch((err: unknown) =>
      ctx.log.warn({ err: errorText(err), topic, partition: batch.partition }, 'offset commit failed; records since the last commit will be redelivered'),
    );
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
      ctx.log.warn({ ...where, err: errorText(err) }, "handler failed during a rebalance; the partition's next owner retries it");
      return { outcome: 'abandoned', heartbeatError };
    }
    if (deadLetterNow(ctx.policy, err, attempt)) {
      ctx.log.error({ ...where, err }, 'record dead-lettered');
      const dlq = {
        key: message.key,
        value: message.value,
        headers: dlqHeaders(headersOf(record.headers), err, attempt, { topic: ctx.topicName(topic), partition, offset: record.offset, groupId: ctx.groupId }),
      };
      return publishDlqUntilDone(ctx, payload, topic, dlq);
    }
    const delay = retryDelay(ctx.policy, err, attempt);
    ctx.log.warn(
      { ...where, err: errorText(err), retryInMs: delay },
      isDependencyUnavailable(err) ? 'handler failed: a dependency is unreachable; retrying until it answers' : 'handler failed; retrying',
    );
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
