import type { Pool, PoolClient } from 'pg';
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
  private listener: { client: PoolClient; drop: (broken: boolean) => void } | null = null;

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
    return this.listener !== null;
  }

  /** A connection LISTENing for other replicas' consumers; without it the loop still polls. */
  async listen(): Promise<void> {
    if (this.listener) return;
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      this.logger.warn({ err }, 'delivery worker: no connection for LISTEN; polling only');
      return;
    }
    let released = false;
    const drop = (broken: boolean) => {
      if (released) return;
      released = true;
      if (this.listener?.client === client) this.listener = null;
      client.off('notification', onNotification);
      client.off('error', onError);
      // A connection whose socket failed is discarded; a healthy one went through UNLISTEN.
      client.release(broken);
    };
    const onNotification = () => this.wake();
    const onError = (err: Error) => {
      this.logger.warn({ err }, 'delivery worker: LISTEN connection lost; polling until it is back');
      drop(true);
    };
    client.on('notification', onNotification);
    client.on('error', onError);
    try {
      await client.query(`LISTEN ${WAKE_CHANNEL}`);
      this.listener = { client, drop };
    } catch (err) {
      this.logger.warn({ err }, 'delivery worker: LISTEN failed; polling only');
      drop(true);
    }
  }

  async unlisten(): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    try {
      await listener.client.query(`UNLISTEN ${WAKE_CHANNEL}`);
      listener.drop(false);
    } catch (err) {
      this.logger.debug({ err }, 'delivery worker: UNLISTEN failed; discarding the connection');
      listener.drop(true);
    }
  }
}
