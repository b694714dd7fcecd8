import { kafkaBrokers, postgresServerUrl, requireInfra } from './infra.ts';

// Runs once before all test files: finds (or starts) the real Kafka and PostgreSQL and hands
// them to the test workers through the environment, so each file does not probe again.
export default async function setup(): Promise<void> {
  try {
    process.env.DATABASE_URL ??= await postgresServerUrl();
    process.env.KAFKA_BROKERS ??= (await kafkaBrokers()).join(',');
  } catch (err) {
    if (requireInfra) throw err;
    console.warn(`\n!!! integration infrastructure unavailable; *.int.test.ts files will fail: ${(err as Error).message}\n`);
  }
}
