import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@griddispatch/observability';
import { startEmbeddedPostgres } from './index.ts';
import { waitFor } from './test-fixtures/recording-bus.ts';

const CHILD = new URL('./test-fixtures/embedded-postgres-child.ts', import.meta.url).pathname;
const logger = createLogger({ service: 'db-test', level: 'silent' });
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gd-embedded-'));
  // mkdtemp makes a 0700 directory; as root, the server runs as the `postgres` user, which must reach it.
  await chmod(root, 0o755);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function queryOne(url: string, sql: string): Promise<Record<string, unknown>> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query(sql)).rows[0] as Record<string, unknown>;
  } finally {
    await client.end();
  }
}

/** Running, and not a zombie waiting for a PID 1 that reaps orphans lazily. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** Runs the child fixture until it reports its postmaster. */
async function startChild(dataDir: string, port: number, mode: 'hang' | 'exit') {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, String(port), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before reporting`)));
  });
  return { child, exited, ...(JSON.parse(first) as { pid: number; url: string }) };
}

describe('embedded PostgreSQL', () => {
  it('initialises in an empty directory, answers queries, survives a restart, and stops', async () => {
    const dataDir = join(root, 'fresh');
    const port = await freePort();
    const first = await startEmbeddedPostgres({ dataDir, port, logger });
    expect(first.url).toMatch(new RegExp(`^postgres://postgres:[^@]+@127\\.0\\.0\\.1:${port}/griddispatch$`));
    expect(await queryOne(first.url, "SELECT current_database() AS db, current_setting('server_encoding') AS enc")).toEqual({
      db: 'griddispatch',
      enc: 'UTF8',
    });
    await queryOne(first.url, "CREATE TABLE kept AS SELECT '后湖3号网格'::text AS name");
    await first.stop();
    await expect(queryOne(first.url, 'SELECT 1')).rejects.toThrow();

    const second = await startEmbeddedPostgres({ dataDir, port, logger });
    expect(second.url).toBe(first.url);
    expect(await queryOne(second.url, 'SELECT name FROM kept')).toEqual({ name: '后湖3号网格' });
    await second.stop();
    await second.stop(); // idempotent
  });

  it('starts again after the previous Node process was SIGKILLed and left its postmaster running', async () => {
    const dataDir = join(root, 'stale');
    const port = await freePort();
    const crashed = await startChild(dataDir, port, 'hang');
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    expect(alive(crashed.pid)).toBe(true); // the orphaned server still holds the data directory

    const restarted = await startEmbeddedPostgres({ dataDir, port, logger });
    try {
      expect(await queryOne(restarted.url, 'SELECT 1 AS ok')).toEqual({ ok: 1 });
      expect(alive(crashed.pid)).toBe(false);
    } finally {
      await restarted.stop();
    }
  });

  it('shuts the server down when the process exits without calling stop()', async () => {
    const dataDir = join(root, 'exit');
    const port = await freePort();
    const run = await startChild(dataDir, port, 'exit');
    expect(await run.exited).toBe(0);
    await waitFor(() => !alive(run.pid), 10_000, 'the postmaster to exit');
  });

  it('explains when the postgres OS user cannot reach the data directory', async () => {
    if (process.getuid?.() !== 0) return; // only root hands the server to another OS user
    const hidden = await mkdtemp(join(tmpdir(), 'gd-embedded-0700-'));
    try {
      await expect(startEmbeddedPostgres({ dataDir: join(hidden, 'data'), port: await freePort(), logger })).rejects.toThrow(
        /OS user "postgres" cannot reach the data directory/,
      );
    } finally {
      await rm(hidden, { recursive: true, force: true });
    }
  });
});
