import { createInProcessBus, createKafkaBus, type Bus } from '@griddispatch/bus';
import { DEV_SECRET, onShutdownSignal, parseEnv, parseHttpEnv } from '@griddispatch/http';
import { createLogger } from '@griddispatch/observability';
import { openDatabase } from '../database.ts';
import { CliEnv } from '../env.ts';
import { buildStack } from '../stack.ts';

const DEV_KEYS = `dev:${DEV_SECRET}:admin`;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** `griddispatch start`: the whole stack in one process (README's first command). */
export async function start(): Promise<void> {
  const env = parseEnv(CliEnv, process.env, 'embedded stack');
  const logger = createLogger({ service: 'griddispatch' });
  const devKeys = !process.env.GD_API_KEYS;
  if (devKeys) {
    // A new user sees dispatch at once, but a development key is never reachable from the network.
    process.env.GD_API_KEYS = DEV_KEYS;
    process.env.HOST ??= '127.0.0.1';
    if (!LOOPBACK.has(process.env.HOST)) {
      throw new Error(
        `GD_API_KEYS is unset: the development key "${DEV_SECRET}" is served on 127.0.0.1 only, not on HOST=${process.env.HOST}; set GD_API_KEYS (griddispatch keys --help)`,
      );
    }
  }
  // /docs by default only where nobody else can reach it.
  const http = parseHttpEnv(process.env, { allowDevSecret: devKeys, docsByDefault: LOOPBACK.has(process.env.HOST ?? '0.0.0.0') });

  const db = await openDatabase(env, logger);
  if (db.kind !== 'external' && db.kind !== 'embedded') {
    await db.close();
    throw new Error(`another griddispatch already serves ${env.GD_DATA_DIR}; stop it first or set GD_DATA_DIR`);
  }
  const bus: Bus = env.KAFKA_BROKERS
    ? await createKafkaBus({ brokers: env.KAFKA_BROKERS.split(','), prefix: env.GD_TOPIC_PREFIX, clientId: 'griddispatch', logger })
    : createInProcessBus({ prefix: env.GD_TOPIC_PREFIX, logger });

  const stack = await buildStack({ pool: db.pool, bus, logger, http, sampleData: env.GD_SAMPLE_DATA === '1' });
  onShutdownSignal(logger, async () => {
    await stack.stop();
    await bus.close();
    await db.close();
  });
  const address = await stack.host.listen({ port: http.port, host: http.host });
  logger.info({ address, bus: bus.kind, database: db.kind }, `grid-dispatch is up at ${address} ${http.docs ? ` (API docs: ${address}/docs)` : ''}`);
  if (devKeys) logger.warn(`GD_API_KEYS unset: created the development key "${DEV_KEYS}"; use: Authorization: Bearer ${DEV_SECRET}`);
}
