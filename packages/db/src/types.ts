import type { Pool, PoolClient } from 'pg';
import type { Bus } from '@griddispatch/bus';

export type { Pool, PoolClient };

/** A record waiting in a service's outbox table, written in the same transaction as its state. */
export interface OutboxRecord {
  topic: string;
  key: string;
  value: string;
  headers?: Record<string, string>;
}

export interface RelayOptions {
  pool: Pool;
  /** The owning service's schema: the relay reads `<schema>.outbox`. */
  schema: string;
  bus: Bus;
  /** Records per publish. Default 500. */
  batchSize?: number;
  /** Safety poll when no NOTIFY arrives. Default 1000 ms. */
  pollIntervalMs?: number;
}

export interface Relay {
  /** Resolves when the outbox is empty (for tests and graceful shutdown). */
  drained(): Promise<void>;
  /** Unpublished rows right now (for /metrics). */
  backlog(): Promise<number>;
  stop(): Promise<void>;
}
