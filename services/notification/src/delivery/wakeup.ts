import type { Pool } from 'pg';
import { listen, type Listener } from '@griddispatch/db';
import type { Logger } from '@griddispatch/observability';

// How the delivery loop sleeps and is woken: by this process's consumers directly (wake()), by
// other replicas' consumers through LISTEN/NOTIFY on WAKE_CHANNEL (their insert NOTIFYs on
// commit), by its own sends finishing, or by a timer (the next retry it scheduled, or the poll
// interval). A wake that arrives while the loop is busy is remembered, never lost.

export const WAKE_CHANNEL = 'notification_deliveries';

/** One sleeper (a lane of the delivery worker): sleeps until woken or a timer. */
export class Signal {
  private woken = false;
  private wakeUp: (() => void) | null = null;

  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Resolves after `ms`, or at once / earlier when woken. */
  sleep(ms: number): Promise<void> {
    if (this.woken || ms <= 0) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}

export class Wakeup {
  private readonly signals = new Set<Signal>();
  private listener: Listener | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
  ) {}

  /** A sleeper woken by every wake() and notification. */
  signal(): Signal {
    const s = new Signal();
    this.signals.add(s);
    return s;
  }

  wake(): void {
    for (const s of this.signals) s.wake();
  }

  listening(): boolean {
    return this.listener?.listening() ?? false;
  }

  /**
   * A connection LISTENing for other replicas' consumers, reconnecting when lost; without it the
   * lanes still poll. Resolves once the first attempt is over.
   */
  async listen(): Promise<void> {
    this.listener ??= listen(this.pool, WAKE_CHANNEL, () => this.wake(), {
      logger: this.logger,
      label: 'delivery worker',
      meanwhile: 'polling until it is back',
      // Deliveries committed while not listening were announced to nobody: look once.
      onListening: (again) => {
        if (again) this.wake();
      },
    });
    await this.listener.ready;
  }

  async unlisten(): Promise<void> {
    const listener = this.listener;
    this.listener = null;
    await listener?.close();
  }
}
