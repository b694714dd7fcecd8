import pg from 'pg';
import { postgresServerUrl, uniqueSuffix } from './infra.ts';

export interface FreshDatabase {
  /** URL of the new, empty database. */
  url: string;
  /** A pool on it (closed by drop()). */
  pool: pg.Pool;
  /** Closes the pool, terminates other connections and drops the database. */
  drop(): Promise<void>;
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function onServer<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A uniquely named, empty database on the test server (DATABASE_URL from the vitest global
 * setup, else whatever `postgresServerUrl()` finds), so test files never see each other's rows.
 */
export async function freshDatabase(prefix = 'test'): Promise<FreshDatabase> {
  const serverUrl = process.env.DATABASE_URL ?? (await postgresServerUrl());
  const name = `${prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_${uniqueSuffix()}`.slice(0, 63);
  await onServer(serverUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = withDatabase(serverUrl, name);
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => {
    // Idle connections die when drop() terminates them; nothing to report.
  });
  let dropped = false;
  return {
    url,
    pool,
    async drop() {
      if (dropped) return;
      dropped = true;
      await pool.end();
      await onServer(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
