import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';

// Tests get real services (DESIGN §8): KAFKA_BROKERS / DATABASE_URL when set; else a Docker engine
// through testcontainers; else the local launchers. With GD_REQUIRE_INFRA=1 (CI) a missing service
// is a failure, never a skip.

const run = promisify(execFile);

export const requireInfra = process.env.GD_REQUIRE_INFRA === '1';

export class InfraUnavailableError extends Error {
  override name = 'InfraUnavailableError';
}

function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
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

/** Brokers for tests; starts the local KRaft broker from infra/kafka when nothing else answers. */
export async function kafkaBrokers(): Promise<string[]> {
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS.split(',');
  if (await portOpen('127.0.0.1', 9092)) return ['127.0.0.1:9092'];
  if (dockerAvailable()) {
    const { KafkaContainer } = await import('@testcontainers/kafka' as string).catch(() => ({ KafkaContainer: undefined }));
    if (KafkaContainer) {
      const container = await new KafkaContainer('apache/kafka:3.9.1').withKraft().start();
      return [`${container.getHost()}:${container.getMappedPort(9093)}`];
    }
  }
  const script = new URL('../../../infra/kafka/kafka.sh', import.meta.url).pathname;
  try {
    await run('bash', [script, 'up'], { timeout: 300_000 });
  } catch (err) {
    throw new InfraUnavailableError(`no Kafka: KAFKA_BROKERS unset and ${script} up failed: ${(err as Error).message}`);
  }
  return ['127.0.0.1:9092'];
}

/** Server URL (no database part) of a real PostgreSQL for tests. */
export async function postgresServerUrl(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  if (await portOpen('127.0.0.1', 5432)) return 'postgres://postgres@127.0.0.1:5432/postgres';
  if (dockerAvailable()) {
    const mod = (await import('@testcontainers/postgresql' as string).catch(() => undefined)) as
      | { PostgreSqlContainer: new (image: string) => { start(): Promise<{ getConnectionUri(): string }> } }
      | undefined;
    if (mod) return (await new mod.PostgreSqlContainer('postgres:16').start()).getConnectionUri();
  }
  try {
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', '15', 'main', 'start']);
  } catch (err) {
    throw new InfraUnavailableError(`no PostgreSQL on 127.0.0.1:5432 and it could not be started: ${(err as Error).message}`);
  }
  return 'postgres://postgres@127.0.0.1:5432/postgres';
}

/** A short random suffix for names that must not collide between test runs. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}
