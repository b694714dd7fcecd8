import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '@griddispatch/testkit';
import { createLogger } from '@griddispatch/observability';
import { createPool, migrate, MigrationError } from './index.ts';

const FIXTURES = new URL('./test-fixtures/migrations', import.meta.url).pathname;
const logger = createLogger({ service: 'db-test', level: 'warn' });

let db: FreshDatabase;
let scratch: string;

beforeAll(async () => {
  db = await freshDatabase('db_migrate');
  scratch = await mkdtemp(join(tmpdir(), 'gd-migrate-'));
});

afterAll(async () => {
  await db.drop();
  await rm(scratch, { recursive: true, force: true });
});

async function rows<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  return (await db.pool.query<T>(sql)).rows;
}

describe('migrate', () => {
  it('applies each file exactly once when five replicas start at the same time', async () => {
    const replicas = Array.from({ length: 5 }, () => createPool(db.url, { max: 2, logger }));
    try {
      await Promise.all(replicas.map((pool) => migrate(pool, { schema: 'race', folder: FIXTURES, logger })));
    } finally {
      await Promise.all(replicas.map((pool) => pool.end()));
    }
    expect(await rows('SELECT file FROM race.migration_runs ORDER BY file')).toEqual([{ file: '001_items.sql' }, { file: '002_items_note.sql' }]);
    expect((await rows<{ name: string }>('SELECT name FROM race.schema_migrations ORDER BY name')).map((r) => r.name)).toEqual([
      '001_items.sql',
      '002_items_note.sql',
    ]);
    // The schema gets its outbox and inbox before the service's own files.
    const tables = await rows<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'race' ORDER BY table_name");
    expect(tables.map((t) => t.table_name)).toEqual(['inbox', 'items', 'migration_runs', 'outbox', 'schema_migrations']);
  });

  it('does nothing when run again', async () => {
    const before = await rows('SELECT name, applied_at FROM race.schema_migrations ORDER BY name');
    await migrate(db.pool, { schema: 'race', folder: FIXTURES, logger });
    expect(await rows('SELECT name, applied_at FROM race.schema_migrations ORDER BY name')).toEqual(before);
    expect(await rows('SELECT count(*)::int AS n FROM race.migration_runs')).toEqual([{ n: 2 }]);
  });

  it('rolls back a failing file, names it, and applies it once it is fixed', async () => {
    const folder = join(scratch, 'broken');
    await cp(FIXTURES, folder, { recursive: true });
    await writeFile(join(folder, '003_half_done.sql'), 'CREATE TABLE half_done (id int);\nSELECT no_such_function();\n');

    const error = await migrate(db.pool, { schema: 'broken', folder, logger }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).file).toBe('003_half_done.sql');
    expect((error as Error).message).toMatch(/broken\/003_half_done\.sql.*no_such_function/);

    // The earlier files stay applied; nothing of the failed file remains.
    expect((await rows<{ name: string }>('SELECT name FROM broken.schema_migrations ORDER BY name')).map((r) => r.name)).toEqual([
      '001_items.sql',
      '002_items_note.sql',
    ]);
    expect(await rows("SELECT to_regclass('broken.half_done') AS t")).toEqual([{ t: null }]);

    await writeFile(join(folder, '003_half_done.sql'), 'CREATE TABLE half_done (id int);\n');
    await migrate(db.pool, { schema: 'broken', folder, logger });
    expect(await rows("SELECT to_regclass('broken.half_done')::text AS t")).toEqual([{ t: 'broken.half_done' }]);
  });

  it('releases its lock after a failure, so another replica can migrate', async () => {
    const folder = join(scratch, 'fails-always');
    await cp(FIXTURES, folder, { recursive: true });
    await writeFile(join(folder, '000_fail.sql'), 'SELECT 1/0;\n');
    await expect(migrate(db.pool, { schema: 'relock', folder, logger })).rejects.toThrow(/000_fail\.sql/);
    await expect(
      Promise.race([
        migrate(db.pool, { schema: 'relock', folder: FIXTURES, logger }),
        new Promise((_, reject) => setTimeout(() => reject(new Error('lock still held')), 5000)),
      ]),
    ).resolves.toBeUndefined();
  });

  it('refuses schema names that are not plain identifiers', async () => {
    await expect(migrate(db.pool, { schema: 'x"; DROP TABLE y; --', folder: FIXTURES, logger })).rejects.toThrow(/invalid schema name/);
  });
});
