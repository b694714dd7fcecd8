import { z } from 'zod';
import { createKafkaBus, type Bus } from '@griddispatch/bus';
import { DEFAULT_TOPIC_PREFIX } from '@griddispatch/contracts';
import { createPool, type Pool } from '@griddispatch/db';
import { createLogger, startTelemetry, type Logger } from '@griddispatch/observability';
import { hostOptions, parseEnv, parseServiceHttpEnv } from './env.ts';
import { buildHttpHost } from './host.ts';
import type { ServiceHandle } from './service.ts';
import { onShutdownSignal } from './shutdown.ts';

// The distributed mode's entry for every service (each `main.ts` is one call of this): the
// environment parsed and validated, telemetry, the pool, the Kafka bus, the service's own HTTP
// host; SIGTERM drains in reverse order.

const DistributedEnv = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
  KAFKA_BROKERS: z.string().min(1, 'host:port[,host:port…]'),
  GD_TOPIC_PREFIX: z.string().default(DEFAULT_TOPIC_PREFIX),
});

export interface ServiceDeps {
  pool: Pool;
  bus: Bus;
  logger: Logger;
}

export interface ServiceProcessOptions {
  /** The service's name: telemetry's service.name, the log's `service`, the pool's application name, the Kafka client id. */
  name: string;
  build(deps: ServiceDeps): Promise<ServiceHandle>;
  /** After the build (migrations done), before the service starts: e.g. loading the sample data. */
  prepare?(deps: ServiceDeps): Promise<void>;
  /** OpenAPI title. */
  title?: string;
}

export async function runServiceProcess(options: ServiceProcessOptions): Promise<void> {
  const { name } = options;
  const telemetry = await startTelemetry({ serviceName: name });
  const logger = createLogger({ service: name });
  const env = parseEnv(DistributedEnv, process.env, `distributed ${name}`);
  const http = parseServiceHttpEnv();
  const pool = createPool(env.DATABASE_URL, { applicationName: name, logger });
  const bus = createKafkaBus({ brokers: env.KAFKA_BROKERS.split(','), prefix: env.GD_TOPIC_PREFIX, clientId: name, logger });
  const deps = { pool, bus, logger };
  const service = await options.build(deps);
  await options.prepare?.(deps);
  const host = await buildHttpHost({ pool, logger, ...hostOptions(http), services: [service], ...(options.title ? { title: options.title } : {}) });

  await service.start();
  await host.listen({ port: http.port, host: http.host });

  onShutdownSignal(logger, async () => {
    await host.close();
    await service.stop();
    await bus.close();
    await pool.end();
    await telemetry.shutdown();
  });
}
