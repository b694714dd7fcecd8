import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { migrateLockName, schemaIdent } from './identifiers.ts';
import { dbLogger } from './pool.ts';
import type { MigrateOptions, Pool, PoolClient } from './types.ts';

export class MigrationError extends Error {
  override name = 'MigrationError';
  constructor(
    readonly schema: string,
    readonly file: string,
    cause: unknown,
  ) {
    super(`migration ${schema}/${file} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Tables every service schema has, so no service repeats this DDL in its own migrations. */
function baseDdl(schema: string): string {
  const s = schemaIdent(schema);
  return `
    CREATE SCHEMA IF NOT EXISTS ${s};
    CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
      name text PRIMARY KEY,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE IF NOT EXISTS ${s}.outbox (
      id bigserial PRIMARY KEY,
      topic text NOT NULL,
      key text NOT NULL,
      value text NOT NULL,
      headers jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE IF NOT EXISTS ${s}.inbox (
      consumer text NOT NULL,
      event_id text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer, event_id)
    );`;
}

async function inTransaction(client: PoolClient, fn: () => Promise<void>): Promise<void> {
  await client.query('BEGIN');
  try {
    await fn();
    await client.query('COMMIT');
  } catch (err) {
    // The original error matters; a failed ROLLBACK only means the connection is gone, and it is
    // discarded after migrate anyway.
    await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
      throw new Error(`${(err as Error).message} (ROLLBACK failed too: ${(rollbackErr as Error).message})`, { cause: err });
    });
    throw err;
  }
}

/**
 * Creates `schema` with its outbox, inbox and migration log, then applies the folder's `.sql` files
 * in name order, each once and each in its own transaction (a file must not contain BEGIN/COMMIT).
 * A session advisory lock keyed on the schema serialises replicas that start together: the first
 * migrates, the others wait and then find nothing left to do. Files run with
 * `search_path = <schema>, public`, so they may use unqualified names.
 */
export async function migrate(pool: Pool, opts: MigrateOptions): Promise<void> {
  const { schema, folder } = opts;
  const logger = dbLogger(opts.logger);
  const s = schemaIdent(schema);
  const files = (await readdir(folder, { withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.endsWith('.sql'))
    .map((e) => e.name)
    .sort();

  // The connection is discarded afterwards: that also ends the session's lock and any session
  // state a migration file may have set, whatever happened.
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [migrateLockName(schema)]);
    await inTransaction(client, async () => {
      await client.query(baseDdl(schema));
    });
    const applied = new Map<string, string>(
      (await client.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${s}.schema_migrations`)).rows.map((r) => [r.name, r.checksum]),
    );
    for (const file of files) {
      const sql = await readFile(join(folder, file), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const previous = applied.get(file);
      if (previous !== undefined) {
        if (previous !== checksum) {
          logger.warn({ schema, file }, 'migration file changed after it was applied; the change is NOT applied — add a new file');
        }
        continue;
      }
      try {
        await inTransaction(client, async () => {
          await client.query(`SET LOCAL search_path TO ${s}, public`);
          await client.query(sql);
          await client.query(`INSERT INTO ${s}.schema_migrations (name, checksum) VALUES ($1, $2)`, [file, checksum]);
        });
      } catch (err) {
        throw new MigrationError(schema, file, err);
      }
      logger.info({ schema, file }, 'migration applied');
    }
    await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [migrateLockName(schema)]);
  } finally {
    client.release(true);
  }
}
