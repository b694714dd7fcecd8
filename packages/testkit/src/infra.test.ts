import { describe, expect, it } from 'vitest';
import { dockerAvailable, findKafka, findPostgres, hostPort, InfraUnavailableError, loadModule, realProbe, type InfraProbe } from './infra.ts';

// Where the tests' Kafka and PostgreSQL come from: the environment, a server already answering,
// Docker (testcontainers), then the local launchers. This machine has no Docker, so the container
// step is checked with a stand-in for the engine; everything else is the real probe.

function probe(over: Partial<InfraProbe>) {
  const calls: string[] = [];
  const p: InfraProbe = {
    ...realProbe,
    env: {},
    startKafkaContainer: async () => (calls.push('kafka-container'), ['container:1']),
    startPostgresContainer: async () => (calls.push('postgres-container'), 'postgres://container'),
    launchKafka: async () => (calls.push('kafka-launcher'), ['127.0.0.1:9092']),
    launchPostgres: async () => (calls.push('postgres-launcher'), 'postgres://launcher'),
    ...over,
  };
  return { p, calls };
}

const nothingListens = async () => false;

describe.skipIf(dockerAvailable())('without Docker (this machine)', () => {
  it('the environment wins over everything', async () => {
    const { p, calls } = probe({ env: { KAFKA_BROKERS: 'broker-a:9092,broker-b:9092', DATABASE_URL: 'postgres://ci@db/postgres' } });
    expect(await findKafka(p)).toEqual({ brokers: ['broker-a:9092', 'broker-b:9092'], source: 'env' });
    expect(await findPostgres(p)).toEqual({ url: 'postgres://ci@db/postgres', source: 'env' });
    expect(calls).toEqual([]);
  });

  it('then the servers already running here (the real ports)', async () => {
    const { p, calls } = probe({});
    expect((await findKafka(p)).source).toBe('local-port');
    expect((await findPostgres(p)).source).toBe('local-port');
    expect(calls).toEqual([]);
  });

  it('then the local launchers, never a container', async () => {
    const { p, calls } = probe({ portOpen: nothingListens });
    expect(await findKafka(p)).toEqual({ brokers: ['127.0.0.1:9092'], source: 'launcher' });
    expect(await findPostgres(p)).toEqual({ url: 'postgres://launcher', source: 'launcher' });
    expect(calls).toEqual(['kafka-launcher', 'postgres-launcher']);
  });
});

describe('with Docker answering', () => {
  it('starts containers before trying the local launchers, after the environment', async () => {
    const { p, calls } = probe({ portOpen: nothingListens, dockerAvailable: () => true });
    expect(await findKafka(p)).toEqual({ brokers: ['container:1'], source: 'testcontainers' });
    expect(await findPostgres(p)).toEqual({ url: 'postgres://container', source: 'testcontainers' });
    expect(calls).toEqual(['kafka-container', 'postgres-container']);

    const withEnv = probe({ dockerAvailable: () => true, env: { KAFKA_BROKERS: 'k:9092' } });
    expect((await findKafka(withEnv.p)).source).toBe('env');
    expect(withEnv.calls).toEqual([]);
  });
});

describe('the testcontainers modules', () => {
  it('are installed, and the Kafka module accepts the image infra.ts starts', async () => {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    expect(() => new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft()).not.toThrow();
    // What infra.ts asked for before: the module reads the tag as a Confluent version and refuses.
    expect(() => new KafkaContainer('apache/kafka:3.9.1').withKraft()).toThrow(/not supported in Kraft mode/);
    expect(() => new PostgreSqlContainer('postgres:16')).not.toThrow();
  });

  it('a module that fails to load stops the search with its name, instead of falling through', async () => {
    const failing = loadModule('@testcontainers/kafka', () => Promise.reject(new Error("Cannot find package '@testcontainers/kafka'")));
    await expect(failing).rejects.toBeInstanceOf(InfraUnavailableError);
    await expect(failing).rejects.toThrow(/Docker answers but @testcontainers\/kafka could not be loaded/);
  });
});

it('hostPort splits a broker address for portOpen (an IPv6 host keeps its colons)', () => {
  expect(hostPort('127.0.0.1:9092')).toEqual(['127.0.0.1', 9092]);
  expect(hostPort('::1:9092')).toEqual(['::1', 9092]);
});
