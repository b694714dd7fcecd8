import { startPeriodic, type Periodic, type Pool } from '@griddispatch/db';
import type { Logger } from '@griddispatch/observability';
import { MinHeap } from './domain/min-heap.ts';
import type { TimerContext } from './use-cases/context.ts';
import { fireDueTimers, type FiredTimer } from './use-cases/fire-due-timers.ts';

export interface SchedulerOptions {
  pool: Pool;
  ctx: TimerContext;
  logger: Logger;
  batchSize: number;
  pollIntervalMs: number;
  lookaheadMs: number;
  /** Called after each committed batch (metrics). */
  onFired?: (fired: FiredTimer[]) => void;
}

export interface TickResult {
  fired: FiredTimer[];
}

/** Most due times held in memory; beyond it the poll fires the rest (a little later). */
const MAX_IN_MEMORY = 500_000;

/**
 * Fires due timers, promptly and without hammering the database. The timers due within
 * `lookaheadMs` are loaded into an in-memory heap and one `setTimeout` waits for the earliest; the
 * service's own consumers add what they schedule at once. A poll every `pollIntervalMs` fires
 * anything due that memory did not know, loads the next slice of the horizon and the timers
 * inserted since the last poll (another replica's). Any number of replicas: the claim in `fireDueTimers` keeps them from
 * firing one timer twice. Tests drive it with `tick()` and an injected clock instead.
 */
export class TimerScheduler {
  private readonly heap = new MinHeap();
  /** Due times up to here are in the heap (or were fired). */
  private loadedUntil = Number.NEGATIVE_INFINITY;
  /** Timer ids up to here were looked at by a poll. */
  private seenId = '0';
  private wakeTimer: NodeJS.Timeout | undefined;
  private poller: Periodic<void> | undefined;
  private running = false;
  private ticking: Promise<TickResult> | undefined;
  private tickAgain = false;

  constructor(private readonly opts: SchedulerOptions) {}

  get isRunning(): boolean {
    return this.running;
  }

  /** Timers in the in-memory schedule (for metrics and the benchmark). */
  get inMemory(): number {
    return this.heap.size;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loadedUntil = Number.NEGATIVE_INFINITY;
    this.seenId = '0';
    this.heap.clear();
    this.poller = startPeriodic({
      label: 'sla scheduler: poll',
      run: () => this.poll(),
      intervalMs: this.opts.pollIntervalMs,
      initialDelayMs: 0,
      // Timers that memory does not know fire only at a poll: try again at every interval, not later.
      maxBackoffMs: this.opts.pollIntervalMs,
      failureLevel: 'error',
      logger: this.opts.logger,
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    await this.poller?.stop();
    this.poller = undefined;
    await this.ticking;
  }

  /** Consumers report the due times of timers they just committed. */
  scheduled(dues: readonly Date[]): void {
    if (!this.running || dues.length === 0) return;
    let added = false;
    for (const due of dues) {
      const t = due.getTime();
      // Beyond the loaded horizon the next poll loads it from the table.
      if (t <= this.loadedUntil) {
        this.heap.push(t);
        added = true;
      }
    }
    if (added) this.arm();
  }

  /**
   * Fires everything due at `now()`, batch after batch, including escalation steps that are
   * already due when their breach fires (after downtime). Calls made while one runs share it.
   */
  tick(): Promise<TickResult> {
    if (this.ticking) {
      this.tickAgain = true;
      return this.ticking;
    }
    const run = async (): Promise<TickResult> => {
      const fired: FiredTimer[] = [];
      try {
        do {
          this.tickAgain = false;
          for (;;) {
            const batch = await fireDueTimers(this.opts.pool, this.opts.ctx, this.opts.batchSize);
            if (batch.fired.length > 0) {
              fired.push(...batch.fired);
              this.opts.onFired?.(batch.fired);
            }
            const now = this.opts.ctx.now().getTime();
            const moreDue = batch.claimed === this.opts.batchSize || batch.nextDues.some((d) => d.getTime() <= now);
            this.scheduled(batch.nextDues);
            if (!moreDue) break;
          }
        } while (this.tickAgain);
        return { fired };
      } finally {
        this.ticking = undefined;
      }
    };
    this.ticking = run();
    return this.ticking;
  }

  /** The safety poll: fires what memory did not know, loads the next slice of the horizon, re-arms. */
  private async poll(): Promise<void> {
    try {
      await this.tick();
      await this.loadHorizon();
    } finally {
      this.arm();
    }
  }

  /**
   * Loads into memory the due times of pending timers that are due by now + lookahead and either
   * fall in the newly reached part of the horizon or were inserted since the last poll (by another
   * replica, or straight into the table). A timer whose row commits after a later id was seen, or
   * one resumed by another replica, is not in memory: the poll's claim fires it, within one
   * poll interval.
   */
  private async loadHorizon(): Promise<void> {
    const now = this.opts.ctx.now().getTime();
    const horizon = now + this.opts.lookaheadMs;
    const room = MAX_IN_MEMORY - this.heap.size;
    if (room <= 0) return;
    const { rows: top } = await this.opts.pool.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM sla_timer.timers');
    const maxId = top[0]!.id;
    const first = !Number.isFinite(this.loadedUntil);
    const from = new Date(first ? 0 : this.loadedUntil);
    // The first load takes the whole horizon by due time; no need to walk the ids as well.
    const seenId = first ? maxId : this.seenId;
    const { rows } = await this.opts.pool.query<{ due_ms: string }>(
      `SELECT (extract(epoch FROM due_at) * 1000)::bigint AS due_ms FROM sla_timer.timers
        WHERE state = 'pending' AND due_at <= $2
          AND (due_at > $1 OR (id > $4::bigint AND id <= $5::bigint))
        ORDER BY due_at LIMIT $3`,
      [from, new Date(horizon), room, seenId, maxId],
    );
    for (const row of rows) this.heap.push(Number(row.due_ms));
    this.seenId = maxId;
    // When memory is full, load the rest of the slice later.
    this.loadedUntil = rows.length === room ? Number(rows[rows.length - 1]!.due_ms) : horizon;
  }

  /** Sets the one in-process timer for the earliest due time in memory. */
  private arm(): void {
    if (!this.running) return;
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    const next = this.heap.peek();
    if (next === undefined) return;
    const delay = Math.max(0, next - this.opts.ctx.now().getTime());
    this.wakeTimer = setTimeout(() => void this.wake(), delay);
  }

  private async wake(): Promise<void> {
    this.wakeTimer = undefined;
    if (!this.running) return;
    this.heap.popUntil(this.opts.ctx.now().getTime());
    try {
      await this.tick();
    } catch (err) {
      this.opts.logger.error({ err }, 'sla scheduler: firing failed; the next poll retries');
    }
    this.arm();
  }
}
