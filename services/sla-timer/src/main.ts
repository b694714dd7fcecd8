// Distributed mode: sla-timer alone, with Kafka, PostgreSQL and its own HTTP host (health, metrics).
import { createKafkaBus } from '@griddispatch/bus';
import { DEFAULT_TOPIC_PREFIX } from '@griddispatch/contracts';
import { createPool } from '@griddispatch/db';
import { buildHttpHost, hostOptions, onShutdownSignal, parseServiceHttpEnv } from '@griddispatch/http';
import { createLogger, startTelemetry } from '@griddispatch/observability';
import { buildSlaTimer } from './app.ts';
import { loadConfig } from './config.ts';

const telemetry = await startTelemetry({ serviceName: 'sla-timer' });
const logger = createLogger({ service: 'sla-timer' });
const { DATABASE_URL, KAFKA_BROKERS, GD_TOPIC_PREFIX } = process.env;
if (!DATABASE_URL || !KAFKA_BROKERS) throw new Error('distributed sla-timer needs DATABASE_URL and KAFKA_BROKERS');

const http = parseServiceHttpEnv();
const pool = createPool(DATABASE_URL, { applicationName: 'sla-timer', logger });
const bus = createKafkaBus({ brokers: KAFKA_BROKERS.split(','), prefix: GD_TOPIC_PREFIX ?? DEFAULT_TOPIC_PREFIX, clientId: 'sla-timer', logger });
const service = await buildSlaTimer({ pool, bus, logger, config: loadConfig() });
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
