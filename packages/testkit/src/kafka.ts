import { pino, type Logger } from 'pino';
import { createInProcessBus, createKafkaBus, type Bus } from '@griddispatch/bus';
import { kafkaBrokers, uniqueSuffix } from './infra.ts';

// Buses for tests, and the "wait until consumers are idle" helper, which lives with the bus
// (it reads each implementation's committed offsets) and is re-exported here.
export { waitForIdle, lagByGroup, BusNotIdleError, type WaitForIdleOptions } from '@griddispatch/bus';

export interface TestBusOptions {
  /** Default: a fresh `test.<random>.` so parallel runs on one broker never share topics. */
  prefix?: string;
  /** Default: silent unless LOG_LEVEL is set. */
  logger?: Logger;
  clientId?: string;
}

/** A topic prefix no other test run uses. */
export function testTopicPrefix(): string {
  return `test.${uniqueSuffix()}.`;
}

/** A consumer group id no other test run uses. */
export function testGroupId(name: string): string {
  return `${name}-${uniqueSuffix()}`;
}

function testLogger(): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? 'silent' });
}

/** A Kafka bus on the test broker (KAFKA_BROKERS from the global setup) with its own topic prefix. */
export async function createTestKafkaBus(options: TestBusOptions = {}): Promise<Bus> {
  const brokers = process.env.KAFKA_BROKERS?.split(',') ?? (await kafkaBrokers());
  return createKafkaBus({
    brokers,
    prefix: options.prefix ?? testTopicPrefix(),
    clientId: options.clientId ?? 'griddispatch-test',
    logger: options.logger ?? testLogger(),
  });
}

/** The embedded mode's bus, for tests that do not need a broker. */
export function createTestInProcessBus(options: TestBusOptions & { partitions?: number } = {}): Bus {
  return createInProcessBus({
    prefix: options.prefix ?? testTopicPrefix(),
    logger: options.logger ?? testLogger(),
    partitions: options.partitions ?? 3,
  });
}
