import pg from 'pg';
import { createLogger, type Logger } from '@griddispatch/observability';
import type { Pool, PoolClient, PoolOptions } from './types.ts';

let defaultLogger: Logger | undefined;
export function dbLogger(logger?: Logger): Logger {
  if (logger) return logger;
  defaultLogger ??= createLogger({ service: 'db' });
  return defaultLogger;
}

/**
 * A pg pool that survives the database going away: errors on idle connections (server restart,
 * network cut) are logged instead of crashing the process; the next checkout reconnects.
 */
export function createPool(url: string, opts: PoolOptions = {}): Pool {
  const logger = dbLogger(opts.logger);
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 15_000,
    application_name: opts.applicationName ?? 'griddispatch',
  });
  pool.on('error', (err) => logger.warn({ err }, 'postgres: idle connection failed; it will be replaced'));
  // pg-pool listens for errors only while a connection is idle: one the server ends while it is
  // checked out between two queries (a restart) would otherwise crash the process. The next query
  // on it fails and says so; releasing it then drops it from the pool.
  pool.on('connect', (client) => client.on('error', (err) => logger.debug({ err }, 'postgres: a connection in use failed')));
  return pool;
}

/**
 * Runs `fn` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws
 * (the error is rethrown). The connection is always released; one whose ROLLBACK failed is
 * discarded rather than returned to the pool in an unknown state.
 */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A connection error while no query runs is emitted on the client; without a listener it
  // would crash the process. The failing query (or COMMIT) reports it to the caller anyway.
  let connectionError: Error | undefined;
  const onError = (err: Error) => {
    connectionError = err;
  };
  client.on('error', onError);
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true;
    }
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken || connectionError !== undefined);
  }
}
