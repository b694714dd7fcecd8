import type { Logger } from '@griddispatch/observability';

/**
 * SIGTERM/SIGINT → run `shutdown` once (close the host, stop services, close bus and pool, in
 * that order), then exit. A second signal or a drain longer than `timeoutMs` exits at once.
 */
export function onShutdownSignal(logger: Logger, shutdown: () => Promise<void>, timeoutMs = 25_000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown took too long: exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}
