// The one Bus interface every service codes against. Two implementations: Kafka (kafkajs) and
// in-process (embedded mode). Both pass the same contract suite (bus.contract.ts).

export interface OutgoingMessage {
  /** Partition key: the aggregate whose events must stay ordered (grid id, work-order id). */
  key: string;
  value: string;
  headers?: Record<string, string>;
}

export interface IncomingMessage {
  /** Logical topic name, without the prefix (e.g. `requests.received`). */
  topic: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  partition: number;
  offset: string;
  /** 1 on first delivery, incremented on each retry of the same record. */
  attempt: number;
}

export type MessageHandler = (message: IncomingMessage) => Promise<void>;

/**
 * Consecutive records of ONE partition, in offset order (at most `maxBatchSize`), each with
 * `attempt: 1`. Resolving commits them all. Throwing hands the same records, one by one, to the
 * record `handler` with its usual retries and DLQ, so a poison record reaches the DLQ alone and
 * the others are applied by the record path; the next batch goes to the batch handler again.
 */
export type BatchHandler = (messages: IncomingMessage[]) => Promise<void>;

export interface SubscribeOptions {
  /**
   * Consumer group: replicas with the same group share partitions. On Kafka the group carries the
   * topic prefix like the topics do (`griddispatch.sla-timer`); everything this interface reports
   * (lag, DLQ headers) uses the name given here.
   */
  groupId: string;
  /** Logical topic names, without the prefix. */
  topics: string[];
  handler: MessageHandler;
  /**
   * Set-at-a-time path: records fetched together are handed over together (see BatchHandler);
   * `handler` remains the path for retries and for isolating a poison record.
   */
  batchHandler?: BatchHandler;
  /** Most records one batch handler call gets. Default 500. */
  maxBatchSize?: number;
  /** Start at the earliest retained record when the group has no committed offset. Default true. */
  fromBeginning?: boolean;
  /** Attempts per record before it goes to `<topic>.dlq`. Default 5. */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt, with jitter. Default 100 ms. */
  retryBackoffMs?: number;
  /** Upper bound of one retry delay. Default 30 s. */
  maxRetryBackoffMs?: number;
  /**
   * Partitions this subscriber handles at the same time (records of one partition are always
   * handled one after the other). Default 3.
   */
  concurrency?: number;
}

export interface Subscription {
  /**
   * Stops fetching, lets the in-flight handler finish and commits its offset. A handler that
   * fails while the subscription stops is neither retried nor committed: the record goes to the
   * next consumer of the group.
   */
  stop(): Promise<void>;
  /** False once stopped, or when the consumer crashed and could not restart (for /readyz). */
  isRunning(): boolean;
}

/** Committed position of one consumer group on one partition, against the end of the log. */
export interface ConsumerLag {
  groupId: string;
  /** Logical topic name. */
  topic: string;
  partition: number;
  /** Next offset the group will handle (everything before it is committed). */
  committed: number;
  /** Offset the next published record will get (Kafka's high watermark). */
  end: number;
  lag: number;
}

export interface Bus {
  readonly kind: 'kafka' | 'in-process';
  /** Resolves once the broker has acknowledged every message (acks=all for Kafka). */
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  /**
   * At-least-once: a record's offset is committed only after `handler` resolved. A handler that
   * throws is retried with backoff; after `maxAttempts` the record goes to `<topic>.dlq` with
   * the error in headers (see `DlqHeaders`) and the partition moves on. An error named
   * `InvalidEventError` goes to the DLQ at once (a malformed record never parses on retry). An
   * error saying a dependency is unreachable (connection refused or reset, PostgreSQL shutting
   * down or not accepting connections; see `isDependencyUnavailable`) never dead-letters: the
   * record is retried until the dependency answers, and the partition waits. Records with one key are handled in order. Resolves once the consumer joined its group.
   */
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Full topic name as seen by Kafka tools: prefix + logical name. */
  topicName(topic: string): string;
  /**
   * Lag of every group subscribed through this bus, per partition of its topics. For tests
   * (`waitForIdle`) and metrics.
   */
  consumerLag(): Promise<ConsumerLag[]>;
  /** Stops all subscriptions (draining in-flight handlers) and the producer. */
  close(): Promise<void>;
}

/** Headers a record carries on `<topic>.dlq`, besides the original record's own headers. */
export const DlqHeaders = {
  error: 'x-dlq-error',
  errorName: 'x-dlq-error-name',
  attempts: 'x-dlq-attempts',
  sourceTopic: 'x-dlq-source-topic',
  sourcePartition: 'x-dlq-source-partition',
  sourceOffset: 'x-dlq-source-offset',
  groupId: 'x-dlq-group-id',
  failedAt: 'x-dlq-failed-at',
} as const;
