import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@griddispatch/observability';
import { runningEmbeddedPostgres, startEmbeddedPostgres } from './index.ts';
import { PLACEMENT_ROOT, placedDataDir } from './postgres-placement.ts';
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

/** A logger at info level that keeps its JSON lines. */
function recordingLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return {
    logger: createLogger({ service: 'db-test', level: 'info', destination }),
    lines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

function nativeDirOfPackage(): string {
  const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  return join(dirname(fromPackage.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)), '..', 'native');
}

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

  describe('as root, under a 0700 directory (a checkout in /root)', () => {
    const asRoot = process.getuid?.() === 0; // only root hands the server to another OS user
    let hidden: string;
    const placed: string[] = [];

    beforeAll(async () => {
      hidden = await mkdtemp(join(tmpdir(), 'gd-embedded-0700-'));
    });
    afterAll(async () => {
      await rm(hidden, { recursive: true, force: true });
      for (const dir of placed) await rm(dir, { recursive: true, force: true });
    });

    it.skipIf(!asRoot)('places the cluster where the postgres user reaches it, says so, and finds it again', async () => {
      const dataDir = join(hidden, 'data');
      const port = await freePort();
      const cluster = join(placedDataDir(dataDir), 'postgres');
      placed.push(placedDataDir(dataDir));
      const log = recordingLogger();
      const first = await startEmbeddedPostgres({ dataDir, port, logger: log.logger });
      await queryOne(first.url, "CREATE TABLE kept AS SELECT '后湖3号网格'::text AS name");
      expect(await runningEmbeddedPostgres(dataDir)).toBe(first.url);
      await first.stop();
      expect(existsSync(join(cluster, 'PG_VERSION'))).toBe(true);
      expect(existsSync(join(dataDir, 'postgres'))).toBe(false);
      expect(log.lines()).toContainEqual(expect.objectContaining({ level: 30, dataDir, clusterDir: cluster }));

      const second = await startEmbeddedPostgres({ dataDir, port, logger });
      try {
        expect(await queryOne(second.url, 'SELECT name FROM kept')).toEqual({ name: '后湖3号网格' });
      } finally {
        await second.stop();
      }
    });

    it.skipIf(!asRoot)("runs a copy of the binaries when node_modules is out of the postgres user's reach", async () => {
      // A copy of the platform package in the 0700 directory, with its own version so it is placed anew.
      const version = `0.0.0-test-${randomBytes(4).toString('hex')}`;
      const packageDir = join(hidden, 'node_modules', 'linux-x64');
      await cp(join(nativeDirOfPackage(), '..'), packageDir, { recursive: true });
      await writeFile(join(packageDir, 'package.json'), JSON.stringify({ version }));
      const copy = join(PLACEMENT_ROOT, `postgres-${version}-${process.platform}-${process.arch}`);
      placed.push(copy);
      const dataDir = join(root, 'copied-binaries'); // reachable: only the binaries move
      const log = recordingLogger();
      const server = await startEmbeddedPostgres({ dataDir, port: await freePort(), nativeDir: join(packageDir, 'native'), logger: log.logger });
      try {
        expect(await queryOne(server.url, 'SELECT 1 AS ok')).toEqual({ ok: 1 });
      } finally {
        await server.stop();
      }
      expect(existsSync(join(copy, 'bin', 'postgres'))).toBe(true);
      expect(log.lines()).toContainEqual(expect.objectContaining({ level: 30, binariesDir: copy, copied: true }));
      expect(existsSync(join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
    });
  });
});
