import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import type { Bus } from '@griddispatch/bus';
import { buildHttpHost, hostOptions, type ServiceHandle, type HttpEnv } from '@griddispatch/http';
import { buildGridRouting, loadSampleData } from '@griddispatch/grid-routing';
import { buildIntake } from '@griddispatch/intake';
import { buildNotification, type NotificationConfig } from '@griddispatch/notification';
import { buildSlaTimer } from '@griddispatch/sla-timer';
import type { Logger } from '@griddispatch/observability';

export interface StackDeps {
  pool: Pool;
  bus: Bus;
  logger: Logger;
  http: HttpEnv;
  /** Load the sample county when the routing data is empty (the embedded start does). */
  sampleData?: boolean;
  /** notification's configuration; default: parsed from the environment. */
  notification?: NotificationConfig;
}

export interface Stack {
  host: FastifyInstance;
  services: ServiceHandle[];
  stop(): Promise<void>;
}

/**
 * All four services in one process behind one HTTP host (docs/architecture.md#run-modes, "embedded"). The services are
 * composed through their public `buildX` only; they still talk to each other only over the bus.
 */
export async function buildStack(deps: StackDeps): Promise<Stack> {
  const { pool, bus, logger } = deps;
  // In the order events flow, so each consumer exists before its producer starts publishing.
  const services: ServiceHandle[] = [
    await buildNotification({ pool, bus, logger, ...(deps.notification ? { config: deps.notification } : {}) }),
    await buildSlaTimer({ pool, bus, logger }),
    await buildGridRouting({ pool, bus, logger }),
    await buildIntake({ pool, bus, logger }),
  ];
  if (deps.sampleData) {
    const loaded = await loadSampleData(pool, { logger });
    if (loaded) logger.info(loaded, 'sample county loaded');
  }
  const host = await buildHttpHost({
    pool,
    logger,
    services,
    ...hostOptions(deps.http),
    title: 'grid-dispatch',
  });
  for (const service of services) await service.start();

  return {
    host,
    services,
    async stop() {
      await host.close();
      for (const service of [...services].reverse()) await service.stop();
    },
  };
}
