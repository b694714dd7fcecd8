import { join, resolve } from 'node:path';
import { z } from 'zod';
import { createInProcessBus, createKafkaBus, type Bus } from '@griddispatch/bus';
import { DEFAULT_TOPIC_PREFIX } from '@griddispatch/contracts';
import { createPool, startEmbeddedPostgres } from '@griddispatch/db';
import { onShutdownSignal, parseHttpEnv } from '@griddispatch/http';
import { createLogger } from '@griddispatch/observability';
import { buildStack } from '../stack.ts';

const DEV_KEYS = 'dev:dev-secret:admin';

const StartEnv = z.object({
  KAFKA_BROKERS: z.string().optional(),
  DATABASE_URL: z.string().optional(),
  GD_DATA_DIR: z.string().default('./.data'),
  GD_TOPIC_PREFIX: z.string().default(DEFAULT_TOPIC_PREFIX),
  GD_EMBEDDED_PG_PORT: z.coerce.number().int().default(54329),
  GD_SAMPLE_DATA: z.enum(['0', '1']).default('1'),
});

/** `griddispatch start`: the whole stack in one process (README's first command). */
export async function start(): Promise<void> {
  const env = StartEnv.parse(process.env);
  const logger = createLogger({ service: 'griddispatch' });
  const devKeys = !process.env.GD_API_KEYS;
  if (devKeys) {
    // A new user sees dispatch at once, but a development key is never reachable from the network.
    process.env.GD_API_KEYS = DEV_KEYS;
    process.env.HOST ??= '127.0.0.1';
  }
  const http = parseHttpEnv(process.env);

  const embedded = env.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({ dataDir: join(resolve(env.GD_DATA_DIR), 'postgres'), port: env.GD_EMBEDDED_PG_PORT, logger });
  const pool = createPool(env.DATABASE_URL ?? embedded!.url);
  const bus: Bus = env.KAFKA_BROKERS
    ? await createKafkaBus({ brokers: env.KAFKA_BROKERS.split(','), prefix: env.GD_TOPIC_PREFIX, clientId: 'griddispatch', logger })
    : createInProcessBus({ prefix: env.GD_TOPIC_PREFIX, logger });

  const stack = await buildStack({ pool, bus, logger, http, sampleData: env.GD_SAMPLE_DATA === '1' });
  onShutdownSignal(logger, async () => {
    await stack.stop();
    await bus.close();
    await pool.end();
    await embedded?.stop();
  });
  const address = await stack.host.listen({ port: http.port, host: http.host });
  logger.info(
    { address, bus: bus.kind, database: embedded ? 'embedded' : 'external' },
    `grid-dispatch is up at ${address} (docs: ${address}/docs)`,
  );
  if (devKeys) logger.warn(`GD_API_KEYS unset: created the development key "${DEV_KEYS}"; use: Authorization: Bearer dev-secret`);
}
