// Distributed mode: notification alone, with Kafka, PostgreSQL and its own HTTP host.
import { createKafkaBus } from '@griddispatch/bus';
import { DEFAULT_TOPIC_PREFIX } from '@griddispatch/contracts';
import { createPool } from '@griddispatch/db';
import { buildHttpHost, hostOptions, onShutdownSignal, parseServiceHttpEnv } from '@griddispatch/http';
import { createLogger, startTelemetry } from '@griddispatch/observability';
import { buildNotification } from './app.ts';
import { loadConfig } from './config.ts';

const telemetry = await startTelemetry({ serviceName: 'notification' });
const logger = createLogger({ service: 'notification' });
const { DATABASE_URL, KAFKA_BROKERS, GD_TOPIC_PREFIX } = process.env;
if (!DATABASE_URL || !KAFKA_BROKERS) throw new Error('distributed notification needs DATABASE_URL and KAFKA_BROKERS');

const config = loadConfig();
const http = parseServiceHttpEnv();
const pool = createPool(DATABASE_URL, { applicationName: 'notification', logger });
const bus = createKafkaBus({ brokers: KAFKA_BROKERS.split(','), prefix: GD_TOPIC_PREFIX ?? DEFAULT_TOPIC_PREFIX, clientId: 'notification', logger });
const service = await buildNotification({ pool, bus, logger, config });
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
