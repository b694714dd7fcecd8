import type { Pool } from 'pg';
import { migrate } from '@griddispatch/db';
import type { Logger } from '@griddispatch/observability';
import { SCHEMA } from './schema.ts';

export const MIGRATIONS = new URL('./migrations/', import.meta.url).pathname;

/** Creates/updates the routing schema (idempotent, under the migration advisory lock). */
export async function migrateRouting(pool: Pool, logger?: Logger): Promise<void> {
  await migrate(pool, { schema: SCHEMA, folder: MIGRATIONS, ...(logger ? { logger } : {}) });
}
