import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { ensureTopics, loadTopicsFile } from '@griddispatch/bus';
import { createPool } from '@griddispatch/db';
import { loadSampleData, type ImportKind } from '@griddispatch/grid-routing';
import { createLogger } from '@griddispatch/observability';
import { deleteRunArtifacts, kafkaClient } from './kafka.ts';
import { compiledEntry } from '../../infra/build/build.ts';

// The distributed stack for one benchmark run: a fresh PostgreSQL database, a fresh topic prefix
// on the shared broker (so consumer groups are fresh too: the bus prefixes them), the sample
// county loaded with grid-routing's own loader, and the four services started as separate
// processes from the compiled build (`node dist/<service>.js`, built once per run), exactly as
// the distributed mode runs them (docs/architecture.md#run-modes). Each service's output goes to a log file in the run directory.

export const SERVICES = ['intake', 'grid-routing', 'sla-timer', 'notification'] as const;
export type ServiceName = (typeof SERVICES)[number];

const ROOT = new URL('../../', import.meta.url).pathname;

export interface StackOptions {
  runId: string;
  brokers: string[];
  /** PostgreSQL server URL (any database); a new database is created on it. */
  serverUrl: string;
  /** Copies of the sample county to load. */
  scale: number;
  /** SLA policy document (docs/architecture.md#sla-policy), written to the run directory; null → the built-in policy. */
  policy: object | null;
  /** Where service logs and the policy file go. */
  runDir: string;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  say: (line: string) => void;
}

export interface RunningService {
  name: ServiceName;
  pid: number;
  port: number;
  log: string;
}

export interface Stack {
  prefix: string;
  database: string;
  databaseUrl: string;
  intakeUrl: string;
  apiKey: string;
  services: RunningService[];
  sample: { scale: number; grids: number; districts: number; customers: number; loadMs: number };
  startupMs: number;
  /** A service process that exited while the stack was meant to run, if any. */
  exited(): { name: ServiceName; code: number | null; signal: string | null } | null;
  /** SIGTERM the services (graceful drain), then drop the database and this run's topics and groups. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function databaseUrl(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function waitReady(port: number, child: ChildProcess, name: string, log: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited during start-up (code ${child.exitCode}); last lines of ${log}:\n${tail(log, 20)}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} not ready after ${timeoutMs / 1000}s; last lines of ${log}:\n${tail(log, 20)}`);
}

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const started = Date.now();
  const { runId, brokers, say } = options;
  const prefix = `bench.e2e.${runId}.`;
  const database = `bench_e2e_${runId}`;
  const url = databaseUrl(options.serverUrl, database);
  const apiKey = `bench-e2e-${runId}-secret-0123456789`;
  mkdirSync(options.runDir, { recursive: true });
  const children: { name: ServiceName; child: ChildProcess }[] = [];
  let stopping = false;
  let exited: { name: ServiceName; code: number | null; signal: string | null } | null = null;

  // Ctrl-C: the services get SIGINT from the terminal too; still drop the database and topics.
  const onSignal = () => {
    say('interrupted: cleaning up ...');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  const cleanup = async () => {
    process.removeListener('SIGINT', onSignal);
    if (stopping) return;
    stopping = true;
    await Promise.all(
      children.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
            child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
    await adminQuery(options.serverUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch((err: Error) =>
      say(`could not drop database ${database}: ${err.message}`),
    );
    const admin = kafkaClient(brokers, `bench-e2e-${runId}-cleanup`).admin();
    try {
      await admin.connect();
      await deleteRunArtifacts(admin, prefix);
    } catch (err) {
      say(`could not delete topics/groups with prefix ${prefix}: ${(err as Error).message}`);
    } finally {
      await admin.disconnect();
    }
  };

  try {
    await adminQuery(options.serverUrl, `CREATE DATABASE ${database}`);
    say(`database ${database} created; topic prefix ${prefix}`);

    // Topics up front with infra/kafka/topics.json's partition counts, so the watcher can
    // subscribe before the first request and no service races to auto-create them.
    const admin = kafkaClient(brokers, `bench-e2e-${runId}-setup`).admin();
    await admin.connect();
    const file = loadTopicsFile();
    await ensureTopics(
      admin,
      file,
      prefix,
      file.topics.map((t) => t.name),
      createLogger({ service: 'bench-e2e', level: 'warn' }),
    );
    await admin.disconnect();

    const loadStarted = Date.now();
    const pool = createPool(url, { max: 2, applicationName: 'bench-e2e-load' });
    let counts: Awaited<ReturnType<typeof loadSampleData>>;
    try {
      counts = await loadSampleData(pool, { scale: options.scale, logger: createLogger({ service: 'bench-e2e', level: 'warn' }) });
    } finally {
      await pool.end();
    }
    const count = (kind: ImportKind) => {
      const c = counts?.counts[kind];
      return (c?.inserted ?? 0) + (c?.updated ?? 0) + (c?.unchanged ?? 0);
    };
    const sample = {
      scale: options.scale,
      grids: count('grids'),
      districts: count('districts'),
      customers: count('customers'),
      loadMs: Date.now() - loadStarted,
    };
    say(
      `sample county ×${options.scale} loaded in ${(sample.loadMs / 1000).toFixed(1)}s: ${sample.grids} grids, ${sample.districts} 台区, ${sample.customers} customer accounts`,
    );

    let policyPath: string | undefined;
    if (options.policy) {
      policyPath = join(options.runDir, 'sla-policy.json');
      writeFileSync(policyPath, `${JSON.stringify(options.policy, null, 2)}\n`);
    }

    const services: RunningService[] = [];
    for (const name of SERVICES) {
      const port = await freePort();
      const log = join(options.runDir, `${name}.log`);
      const out = createWriteStream(log);
      const env: Record<string, string> = {
        ...(process.env as Record<string, string>),
        DATABASE_URL: url,
        KAFKA_BROKERS: brokers.join(','),
        GD_TOPIC_PREFIX: prefix,
        PORT: String(port),
        HOST: '127.0.0.1',
        GD_RATE_LIMIT_MAX: '0',
        LOG_LEVEL: process.env.BENCH_SERVICE_LOG_LEVEL ?? 'warn',
        // Every process gets the whole key list (they share the database) and the same pepper.
        GD_API_KEYS: `bench-e2e:${apiKey}:requests:write+requests:read`,
        GD_KEY_PEPPER: `bench-e2e-key-pepper-${runId}-0123456789abcdef`,
        ...(policyPath ? { GD_SLA_POLICY: policyPath } : {}),
        ...options.env,
      };
      delete env.GD_SAMPLE_DATA;
      if (!policyPath) delete env.GD_SLA_POLICY;
      // BENCH_PROFILE_DIR: each service writes a V8 CPU profile at exit (`pnpm bench:profile <dir>/<service>`).
      const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${join(process.env.BENCH_PROFILE_DIR, name)}`] : [];
      const child = spawn(process.execPath, [...profile, ...(await compiledEntry(name))], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.pipe(out, { end: false });
      child.stderr!.pipe(out, { end: false });
      child.once('exit', (code, signal) => {
        out.end();
        if (!stopping && !exited) exited = { name, code, signal };
      });
      children.push({ name, child });
      services.push({ name, pid: child.pid!, port, log });
    }
    say(`starting ${SERVICES.join(', ')} as separate processes (logs in ${options.runDir})`);
    await Promise.all(services.map((s, i) => waitReady(s.port, children[i]!.child, s.name, s.log, 120_000)));
    const startupMs = Date.now() - started;
    say(`stack ready in ${(startupMs / 1000).toFixed(1)}s: ${services.map((s) => `${s.name} pid ${s.pid} :${s.port}`).join(', ')}`);

    return {
      prefix,
      database,
      databaseUrl: url,
      intakeUrl: `http://127.0.0.1:${services[0]!.port}`,
      apiKey,
      services,
      sample,
      startupMs,
      exited: () => exited,
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
