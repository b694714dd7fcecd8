import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';

// Tests get real services (docs/architecture.md#tests), found in this order: KAFKA_BROKERS /
// DATABASE_URL when set; a server already answering on the default local port; a Docker engine
// through testcontainers; else the local launchers (infra/kafka/kafka.sh, the machine's
// PostgreSQL cluster). With GD_REQUIRE_INFRA=1 (CI) a missing service is a failure, never a skip.

const run = promisify(execFile);

export const requireInfra = process.env.GD_REQUIRE_INFRA === '1';

export class InfraUnavailableError extends Error {
  override name = 'InfraUnavailableError';
}

/** Where a service came from, in the order tried. */
export type InfraSource = 'env' | 'local-port' | 'testcontainers' | 'launcher';

/** What the search looks at and what it can start; tests replace parts of it. */
export interface InfraProbe {
  env: Record<string, string | undefined>;
  portOpen(host: string, port: number): Promise<boolean>;
  dockerAvailable(): boolean;
  startKafkaContainer(): Promise<string[]>;
  startPostgresContainer(): Promise<string>;
  launchKafka(): Promise<string[]>;
  launchPostgres(): Promise<string>;
}

/** `host:port` (a broker address) → the arguments of `portOpen`. */
export function hostPort(address: string): [host: string, port: number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
}

/** Whether something accepts TCP connections at host:port (within `timeoutMs`). */
export function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function dockerAvailable(): boolean {
  return existsSync('/var/run/docker.sock') || Boolean(process.env.DOCKER_HOST);
}

/**
 * The testcontainers modules are devDependencies: when Docker answers and one cannot be loaded,
 * say so (a silent fall-through would hide a broken install behind a slower path).
 */
export async function loadModule<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    throw new InfraUnavailableError(`Docker answers but ${name} could not be loaded (run pnpm install): ${(err as Error).message}`);
  }
}

const LOCAL_KAFKA = '127.0.0.1:9092';
const LOCAL_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';

export const realProbe: InfraProbe = {
  env: process.env,
  portOpen: (host, port) => portOpen(host, port),
  dockerAvailable,
  async startKafkaContainer() {
    const { KafkaContainer } = await loadModule('@testcontainers/kafka', () => import('@testcontainers/kafka'));
    // The module drives Confluent's image (it checks the tag against Confluent's versions);
    // cp-kafka 7.9 is Apache Kafka 3.9, the version infra/kafka and compose run.
    const container = await new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start();
    return [`${container.getHost()}:${container.getMappedPort(9093)}`];
  },
  async startPostgresContainer() {
    const { PostgreSqlContainer } = await loadModule('@testcontainers/postgresql', () => import('@testcontainers/postgresql'));
    return (await new PostgreSqlContainer('postgres:16').start()).getConnectionUri();
  },
  async launchKafka() {
    const script = new URL('../../../infra/kafka/kafka.sh', import.meta.url).pathname;
    try {
      await run('bash', [script, 'up'], { timeout: 300_000 });
    } catch (err) {
      throw new InfraUnavailableError(`no Kafka: KAFKA_BROKERS unset, no Docker, and ${script} up failed: ${(err as Error).message}`);
    }
    return [LOCAL_KAFKA];
  },
  async launchPostgres() {
    const clusters = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql').sort((a, b) => Number(a) - Number(b)) : [];
    const version = clusters.at(-1);
    if (!version) throw new InfraUnavailableError('no PostgreSQL: DATABASE_URL unset, nothing on 127.0.0.1:5432, no Docker, and no cluster in /etc/postgresql');
    try {
      await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
    } catch (err) {
      throw new InfraUnavailableError(`no PostgreSQL on 127.0.0.1:5432 and cluster ${version}/main could not be started: ${(err as Error).message}`);
    }
    return LOCAL_POSTGRES;
  },
};

/** Brokers for tests, and where they came from. */
export async function findKafka(probe: InfraProbe = realProbe): Promise<{ brokers: string[]; source: InfraSource }> {
  const fromEnv = probe.env.KAFKA_BROKERS?.split(',').filter(Boolean);
  if (fromEnv?.length) return { brokers: fromEnv, source: 'env' };
  if (await probe.portOpen('127.0.0.1', 9092)) return { brokers: [LOCAL_KAFKA], source: 'local-port' };
  if (probe.dockerAvailable()) return { brokers: await probe.startKafkaContainer(), source: 'testcontainers' };
  return { brokers: await probe.launchKafka(), source: 'launcher' };
}

/** Server URL (no database part) of a real PostgreSQL for tests, and where it came from. */
export async function findPostgres(probe: InfraProbe = realProbe): Promise<{ url: string; source: InfraSource }> {
  if (probe.env.DATABASE_URL) return { url: probe.env.DATABASE_URL, source: 'env' };
  if (await probe.portOpen('127.0.0.1', 5432)) return { url: LOCAL_POSTGRES, source: 'local-port' };
  if (probe.dockerAvailable()) return { url: await probe.startPostgresContainer(), source: 'testcontainers' };
  return { url: await probe.launchPostgres(), source: 'launcher' };
}

/** Brokers for tests; starts a container or the local KRaft broker when nothing else answers. */
export async function kafkaBrokers(): Promise<string[]> {
  return (await findKafka()).brokers;
}

/** Server URL (no database part) of a real PostgreSQL for tests. */
export async function postgresServerUrl(): Promise<string> {
  return (await findPostgres()).url;
}

/** A short random suffix for names that must not collide between test runs. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}
