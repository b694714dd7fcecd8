import type { Logger } from '@griddispatch/observability';
import type { ClaimedRow, LaneName } from './claim.ts';
import type { Signal } from './wakeup.ts';

// One lane of the delivery worker: its own sends in flight, its own claim, its own sleep. The
// staff lane (SMS, WeCom, log) and the webhook lane never share a slot, so integrators'
// receivers — however slow — never delay a crew's page (issue 17.5). In the webhook lane a
// subscription holds at most `perSubscription` sends at once in this process: a stalled receiver
// ties up that many slots, not the lane.

export interface LaneOptions {
  name: LaneName;
  /** Sends in flight at once in this lane. */
  concurrency: number;
  /** Sends in flight at once per subscription; null: no cap (staff lane). */
  perSubscription: number | null;
  pollMs: number;
  now: () => Date;
  logger: Logger;
  signal: Signal;
  claim(limit: number, excludeSubscriptions: string[]): Promise<ClaimedRow[]>;
  release(rows: ClaimedRow[]): Promise<void>;
  /** Sends one row and records its result; never rejects. */
  process(row: ClaimedRow): Promise<void>;
  /**
   * A rate budget (the customer lane): the claim takes at most the tokens there are now, and
   * spends one per row it got. Absent: the lane claims what it has room for.
   */
  budget?: { peek(wanted: number): number; take(n: number): void; untilNext(n: number): number };
  /**
   * Claim only once this many slots are free (or none is busy): a bulk lane then claims rows by
   * the dozen in one statement instead of one row per finished send. Default 1.
   */
  minClaim?: number;
}

export class Lane {
  private running = false;
  private loopDone: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly bySubscription = new Map<string, number>();
  /** Earliest next_attempt_at this lane set (ms), so the loop wakes for it without polling. */
  private nextDueAt: number | null = null;
  /** Subscriptions at their cap whose rows the last claim skipped. */
  private skipped = new Set<string>();

  constructor(private readonly o: LaneOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  /** Stops claiming, lets the sends in flight finish. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.o.signal.wake();
    await this.loopDone;
    await Promise.all([...this.inFlight]);
  }

  isRunning(): boolean {
    return this.running;
  }

  noteDue(at: Date): void {
    const t = at.getTime();
    if (this.nextDueAt === null || t < this.nextDueAt) this.nextDueAt = t;
  }

  /** Claims every due row (up to `batchSize`) and sends them all, the per-subscription cap holding. */
  async tick(batchSize: number): Promise<number> {
    const limit = this.o.budget ? this.o.budget.peek(batchSize) : batchSize;
    const rows = limit > 0 ? await this.o.claim(limit, []) : [];
    this.o.budget?.take(rows.length);
    const queue = rows.slice();
    let running = 0;
    await new Promise<void>((resolve) => {
      const pump = () => {
        if (queue.length === 0 && running === 0) return resolve();
        while (running < this.o.concurrency) {
          const i = queue.findIndex((r) => this.hasRoom(r));
          if (i < 0) break;
          const row = queue.splice(i, 1)[0]!;
          running += 1;
          void this.run(row).then(() => {
            running -= 1;
            pump();
          });
        }
      };
      pump();
    });
    return rows.length;
  }

  private hasRoom(row: ClaimedRow): boolean {
    const cap = this.o.perSubscription;
    return cap === null || row.subscription_id === null || (this.bySubscription.get(row.subscription_id) ?? 0) < cap;
  }

  /** Counts the row against its subscription while it is sent. */
  private async run(row: ClaimedRow): Promise<void> {
    const sub = row.subscription_id;
    if (sub) this.bySubscription.set(sub, (this.bySubscription.get(sub) ?? 0) + 1);
    try {
      await this.o.process(row);
    } finally {
      if (sub) {
        const n = (this.bySubscription.get(sub) ?? 1) - 1;
        if (n === 0) this.bySubscription.delete(sub);
        else this.bySubscription.set(sub, n);
        // The last claim skipped this subscription's rows: they may be claimed now.
        if (this.skipped.delete(sub)) this.o.signal.announce();
      }
    }
  }

  /** Subscriptions at their cap: the claim skips their rows. */
  private saturated(): string[] {
    const cap = this.o.perSubscription;
    if (cap === null) return [];
    return [...this.bySubscription].filter(([, n]) => n >= cap).map(([id]) => id);
  }

  private async loop(): Promise<void> {
    const minClaim = Math.min(this.o.minClaim ?? 1, this.o.concurrency);
    // Whether a claim may find rows: at start, after an announcement, a timer, a claim that came
    // back full, or a send of a subscription whose rows the last claim skipped. Any other finished
    // send only makes room: with nothing more due it claims nothing.
    let due = true;
    while (this.running) {
      const open = this.o.concurrency - this.inFlight.size;
      // Below the claim size with sends in flight: wait for more of them to finish.
      const free = open >= minClaim || this.inFlight.size === 0 ? open : 0;
      let claimed = 0;
      let released = 0;
      // Out of rate tokens with rows maybe due: sleep until the tokens are there, not the poll interval.
      let starved = false;
      const retryDue = this.nextDueAt !== null && this.nextDueAt <= this.o.now().getTime();
      if (this.o.signal.takeAnnounced() || retryDue) due = true;
      // With a rate budget, a claim waits for a claim's worth of tokens: at the vendor's pace that
      // is a claim and a result write per few rows, not one each per token.
      const wanted = Math.min(minClaim, free);
      const limit = this.o.budget ? this.o.budget.peek(free) : free;
      if (free > 0 && due && limit < wanted) starved = true;
      else if (free > 0 && due) {
        due = false;
        // Whatever was due by now is claimed below; later times are noted again as they are set.
        if (retryDue) this.nextDueAt = null;
        try {
          const skip = this.saturated();
          this.skipped = new Set(skip);
          const rows = await this.o.claim(limit, skip);
          this.o.budget?.take(rows.length);
          starved = limit < free && rows.length === limit;
          // A full claim may have left rows behind; so may a lane out of tokens.
          due = rows.length === limit;
          const excess: ClaimedRow[] = [];
          for (const row of rows) {
            // One claim may bring more rows of a subscription than it has room for: those go back.
            if (!this.hasRoom(row)) {
              excess.push(row);
              continue;
            }
            claimed += 1;
            const p: Promise<void> = this.run(row).finally(() => {
              this.inFlight.delete(p);
              this.o.signal.wake();
            });
            this.inFlight.add(p);
          }
          released = excess.length;
          if (released > 0) due = true;
          await this.o.release(excess);
        } catch (err) {
          this.o.logger.error({ err, lane: this.o.name }, 'delivery worker: claiming failed; retrying after the poll interval');
        }
      }
      if (!this.running) break;
      // Handed-back rows' subscriptions are excluded next time, so claiming again makes progress.
      if (free > 0 && (claimed === free || released > 0)) continue;
      // Starved, rows already due wait for the tokens too: sleep until those are there.
      const sleepMs =
        starved && this.o.budget ? Math.max(1, Math.min(this.o.pollMs, this.o.budget.untilNext(wanted))) : free > 0 ? this.untilNextDue() : this.o.pollMs;
      const timedOut = await this.o.signal.sleep(sleepMs);
      // A timer ran out: the next retry, a rate token, or the poll that finds other replicas' rows.
      if (timedOut) due = true;
    }
  }

  /**
   * How long the loop may sleep: until the earliest retry or deferral this lane scheduled, at
   * most the poll interval (which also finds rows other replicas scheduled, or left behind).
   */
  private untilNextDue(): number {
    if (this.nextDueAt === null) return this.o.pollMs;
    return Math.min(this.o.pollMs, Math.max(0, this.nextDueAt - this.o.now().getTime()));
  }
}
