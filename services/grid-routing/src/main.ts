// Distributed mode: grid-routing alone, with Kafka, PostgreSQL and its own HTTP host.
import { createKafkaBus } from '@griddispatch/bus';
import { DEFAULT_TOPIC_PREFIX } from '@griddispatch/contracts';
import { createPool } from '@griddispatch/db';
import { buildHttpHost, hostOptions, onShutdownSignal, parseServiceHttpEnv } from '@griddispatch/http';
import { createLogger, startTelemetry } from '@griddispatch/observability';
import { buildGridRouting } from './app.ts';
import { loadConfig } from './config.ts';
import { loadSampleData } from './use-cases/load-sample-data.ts';

const telemetry = await startTelemetry({ serviceName: 'grid-routing' });
const logger = createLogger({ service: 'grid-routing' });
const { DATABASE_URL, KAFKA_BROKERS, GD_TOPIC_PREFIX } = process.env;
if (!DATABASE_URL || !KAFKA_BROKERS) throw new Error('distributed grid-routing needs DATABASE_URL and KAFKA_BROKERS');

const http = parseServiceHttpEnv();
const pool = createPool(DATABASE_URL, { applicationName: 'grid-routing', logger });
const bus = createKafkaBus({ brokers: KAFKA_BROKERS.split(','), prefix: GD_TOPIC_PREFIX ?? DEFAULT_TOPIC_PREFIX, clientId: 'grid-routing', logger });
const service = await buildGridRouting({ pool, bus, logger, config: loadConfig() });
// GD_SAMPLE_DATA=1 (local stacks, demos): an empty routing schema gets the sample county (docs/architecture.md#sample-data).
if (process.env.GD_SAMPLE_DATA === '1') await loadSampleData(pool, { logger });
const host = await buildHttpHost({ pool, logger, ...hostOptions(http), services: [service] });

await service.start();
await host.listen({ port: http.port, host: http.host });

onShutdownSignal(logger, async () => {
  await host.close();
  await service.stop();
  await bus.close();
  await pool.end();
  await telemetry.shutdown();
});
