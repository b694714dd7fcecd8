import type { Logger } from '@griddispatch/observability';

// One way to run a job every so often (a retention sweep, telling call counts, the SLA timers'
// safety poll): cycles never overlap, a failure is logged and tried again later — after
// longer and longer waits while it keeps failing —, a recovery is logged once, and stop() waits
// for the cycle in flight. Loops woken by a signal (the outbox relay, the delivery lanes) are not
// this shape and keep their own.

export interface PeriodicOptions<T> {
  /** What runs, in log lines (e.g. `retention sweep`). */
  label: string;
  /** One cycle. */
  run(): Promise<T>;
  /** Between cycles; 0 turns the timer off (`runNow()` still works). */
  intervalMs: number;
  /** Before the first cycle. Default `intervalMs`. */
  initialDelayMs?: number;
  /** True: the next cycle starts at once (the last one filled its limit: a backlog). */
  again?(result: T): boolean;
  /** A failed cycle is tried again after `intervalMs`, doubling per failure up to this (never below `intervalMs`). Default 30 s. */
  maxBackoffMs?: number;
  /** Level of the failure line. Default `warn`. */
  failureLevel?: 'warn' | 'error';
  logger?: Logger;
}

export interface Periodic<T> {
  /** Runs a cycle now, after the one in progress (cycles never overlap); a failure is the caller's. */
  runNow(): Promise<T>;
  /** Lets the cycle in flight finish; the timer starts no other. */
  stop(): Promise<void>;
}

export function startPeriodic<T>(opts: PeriodicOptions<T>): Periodic<T> {
  const { intervalMs, logger } = opts;
  const maxBackoffMs = Math.max(intervalMs, opts.maxBackoffMs ?? 30_000);
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let last: Promise<unknown> = Promise.resolve();
  let failures = 0;

  function runNow(): Promise<T> {
    const next = last.catch(() => undefined).then(() => opts.run());
    last = next;
    return next;
  }

  function schedule(delay: number): void {
    if (stopping || intervalMs <= 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      runNow().then(
        (result) => {
          if (failures > 0) logger?.info({ failures }, `${opts.label} works again`);
          failures = 0;
          schedule(opts.again?.(result) ? 0 : intervalMs);
        },
        (err: unknown) => {
          failures += 1;
          const retryInMs = Math.min(maxBackoffMs, intervalMs * 2 ** (failures - 1));
          logger?.[opts.failureLevel ?? 'warn']({ err, failures, retryInMs }, `${opts.label} failed; trying again later`);
          schedule(retryInMs);
        },
      );
    }, delay);
    // A job every so often never keeps a process alive by itself.
    timer.unref();
  }
  schedule(opts.initialDelayMs ?? intervalMs);

  return {
    runNow,
    async stop() {
      stopping = true;
      clearTimeout(timer);
      timer = undefined;
      await last.catch(() => undefined);
    },
  };
}
