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

export interface SubscribeOptions {
  /** Consumer group: replicas with the same group share partitions. */
  groupId: string;
  /** Logical topic names, without the prefix. */
  topics: string[];
  handler: MessageHandler;
  /** Start at the earliest retained record when the group has no committed offset. Default true. */
  fromBeginning?: boolean;
  /** Attempts per record before it goes to `<topic>.dlq`. Default 5. */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt, with jitter. Default 100 ms. */
  retryBackoffMs?: number;
}

export interface Subscription {
  /** Stops fetching, lets the in-flight handler finish and commits its offset. */
  stop(): Promise<void>;
}

export interface Bus {
  readonly kind: 'kafka' | 'in-process';
  /** Resolves once the broker has acknowledged every message (acks=all for Kafka). */
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  /**
   * At-least-once: a record's offset is committed only after `handler` resolved. A handler that
   * throws is retried with backoff; after `maxAttempts` the record goes to `<topic>.dlq` with
   * the error in headers (`x-dlq-error`, `x-dlq-attempts`, `x-dlq-source-partition`,
   * `x-dlq-source-offset`) and the partition moves on. Records with one key are handled in order.
   */
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Full topic name as seen by Kafka tools: prefix + logical name. */
  topicName(topic: string): string;
  /** Stops all subscriptions (draining in-flight handlers) and the producer. */
  close(): Promise<void>;
}
