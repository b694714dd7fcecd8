import { resolve } from 'node:path';
import type { Pool } from 'pg';
import { createPool, runningEmbeddedPostgres, startEmbeddedPostgres } from '@griddispatch/db';
import type { Logger } from '@griddispatch/observability';

export interface DatabaseEnv {
  DATABASE_URL?: string | undefined;
  GD_DATA_DIR: string;
  GD_EMBEDDED_PG_PORT: number;
}

export interface Database {
  pool: Pool;
  kind: 'external' | 'embedded' | 'embedded (shared with a running griddispatch)';
  close(): Promise<void>;
}

/**
 * DATABASE_URL when set; else the embedded server under GD_DATA_DIR: the one a running
 * `griddispatch start` serves (tools like `import` connect to it), or a new one we own.
 */
export async function openDatabase(env: DatabaseEnv, logger: Logger): Promise<Database> {
  if (env.DATABASE_URL) {
    const pool = createPool(env.DATABASE_URL, { logger });
    return { pool, kind: 'external', close: () => pool.end() };
  }
  const dataDir = resolve(env.GD_DATA_DIR);
  const running = await runningEmbeddedPostgres(dataDir);
  if (running) {
    const pool = createPool(running, { logger });
    return { pool, kind: 'embedded (shared with a running griddispatch)', close: () => pool.end() };
  }
  const server = await startEmbeddedPostgres({ dataDir, port: env.GD_EMBEDDED_PG_PORT, logger });
  const pool = createPool(server.url, { logger });
  return {
    pool,
    kind: 'embedded',
    async close() {
      await pool.end();
      await server.stop();
    },
  };
}
