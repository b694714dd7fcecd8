import type { Pool } from 'pg';
import { listen, type Listener } from '@griddispatch/db';
import type { Logger } from '@griddispatch/observability';
import { LANES, type LaneName } from './claim.ts';

// How the delivery loop sleeps and is woken: by the NOTIFY on WAKE_CHANNEL that every insert of
// deliveries sends on commit (this process's consumers' and other replicas'), naming the lanes
// that got rows, so only those claim; by its own sends finishing (room to claim into, no new
// rows); or by a timer (the next retry it scheduled, or the poll interval). An announcement that
// arrives while the loop is busy is remembered, never lost.

export const WAKE_CHANNEL = 'notification_deliveries';

/** The NOTIFY payload: the lanes that got rows, comma-separated; empty (older writers) means all. */
export function lanesOf(payload: string | undefined): LaneName[] | null {
  if (!payload) return null;
  return payload.split(',').filter((lane): lane is LaneName => (LANES as readonly string[]).includes(lane));
}

/** One sleeper (a lane of the delivery worker): sleeps until woken or a timer. */
export class Signal {
  private announced = false;
  private woken = false;
  private wakeUp: (() => void) | null = null;

  /** Rows may have become due (a commit, a NOTIFY): the next turn of the loop claims. */
  announce(): void {
    this.announced = true;
    this.wake();
  }

  /** Something the sleeper waits for changed (a send finished: room to claim into), no new rows. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Whether rows were announced since the last call. */
  takeAnnounced(): boolean {
    const announced = this.announced;
    this.announced = false;
    return announced;
  }

  /** Resolves after `ms` with true, or at once / earlier when woken with false. */
  sleep(ms: number): Promise<boolean> {
    if (this.woken || ms <= 0) {
      this.woken = false;
      return Promise.resolve(ms <= 0);
    }
    return new Promise<boolean>((resolve) => {
      const done = (timedOut: boolean) => {
        clearTimeout(timer);
        this.wakeUp = null;
        this.woken = false;
        resolve(timedOut);
      };
      const timer = setTimeout(() => done(true), ms);
      this.wakeUp = () => done(false);
    });
  }
}

export class Wakeup {
  private readonly signals = new Map<LaneName, Signal>();
  private listener: Listener | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
  ) {}

  /** The sleeper of one lane. */
  signal(lane: LaneName): Signal {
    const s = new Signal();
    this.signals.set(lane, s);
    return s;
  }

  /** Announces new rows to these lanes (all of them by default). */
  wake(lanes: readonly LaneName[] | null = null): void {
    for (const [lane, s] of this.signals) if (lanes === null || lanes.includes(lane)) s.announce();
  }

  listening(): boolean {
    return this.listener?.listening() ?? false;
  }

  /**
   * A connection LISTENing for other replicas' consumers, reconnecting when lost; without it the
   * lanes still poll. Resolves once the first attempt is over.
   */
  async listen(): Promise<void> {
    this.listener ??= listen(this.pool, WAKE_CHANNEL, (payload) => this.wake(lanesOf(payload)), {
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
