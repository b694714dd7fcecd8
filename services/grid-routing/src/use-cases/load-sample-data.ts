import type { Pool, PoolClient } from 'pg';
import { generateSampleCounty } from '@griddispatch/grid';
import { withTransaction } from '@griddispatch/db';
import type { Logger } from '@griddispatch/observability';
import { migrateRouting } from '../schema-migrations.ts';
import { applyRecords, IMPORT_LOCK, type ApplyCounts, type ImportKind, type ImportProgress } from './apply-records.ts';

export interface SampleDataOptions {
  /** Copies of the sample county (packages/grid). Default 1. */
  scale?: number;
  seed?: number;
  /** Multiplies the customer accounts only. Default = scale. */
  customerScale?: number;
  onProgress?: (progress: ImportProgress) => void;
  /** Logs when generation and loading start (a large scale takes a while). */
  logger?: Logger;
}

/**
 * Loads the deterministic sample county (docs/architecture.md#sample-data) when the routing schema holds no grids yet,
 * so a first embedded start dispatches at once. Returns null when data was already there.
 */
export async function loadSampleData(
  pool: Pool,
  options: SampleDataOptions = {},
): Promise<{ version: number; counts: Partial<Record<ImportKind, ApplyCounts>> } | null> {
  await migrateRouting(pool, options.logger);
  const empty = async (db: Pick<Pool | PoolClient, 'query'>) => (await db.query('SELECT 1 FROM routing.grids LIMIT 1')).rowCount === 0;
  if (!(await empty(pool))) return null;
  options.logger?.info({ scale: options.scale ?? 1 }, 'routing data is empty: loading the sample county');
  const county = generateSampleCounty({
    scale: options.scale ?? 1,
    seed: options.seed ?? 1,
    ...(options.customerScale ? { customerScale: options.customerScale } : {}),
  });
  const result = await withTransaction(pool, async (client) => {
    await client.query(`SELECT ${IMPORT_LOCK}`);
    // Another process may have loaded it while the county was generated.
    if (!(await empty(client))) return null;
    return applyRecords(client, county, options.onProgress);
  });
  if (result) options.onProgress?.({ phase: 'done', version: result.version });
  return result;
}
