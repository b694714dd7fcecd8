// Group commit: a durable COMMIT (an fsync) costs about as much for one row as for a hundred, so
// items written concurrently share one transaction. There is no timer: an item that finds a free
// slot is written at once (no added latency at a low rate), and whatever arrives while every slot
// is busy committing waits and leaves as the next group — the classic "group commit while a flush
// is in progress". Under load the groups grow by themselves; `maxInFlight` bounds the concurrent
// transactions and `maxGroup` their size. With `gather`, items wait for the end of the event
// loop's turn they arrived in, so items that arrive together (a fetch's partitions) leave together.

/** What one item of a group came to: its value, or the error its own caller gets (a 409, say). */
export type GroupOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface GroupCommitOptions<T, R> {
  /**
   * Writes the items in one transaction and resolves, after its COMMIT, with one outcome per
   * item in order. A rejection means the transaction failed as a whole: nothing of it is stored.
   */
  writeGroup(items: readonly T[]): Promise<GroupOutcome<R>[]>;
  /**
   * Writes one item in its own transaction: a lone item, and each member of a failed group.
   * Without it a lone item goes through `writeGroup`, and a failed group fails every member.
   */
  writeOne?(item: T): Promise<R>;
  /** Told when a group's transaction failed and its members are retried one by one. */
  onGroupFailed?(err: unknown, size: number): void;
  /** Items per transaction at most. Default 200. */
  maxGroup?: number;
  /** Transactions in flight at most. Default 2. */
  maxInFlight?: number;
  /** Write only at the end of the event loop's turn (setImmediate), with all that arrived in it. */
  gather?: boolean;
}

interface Waiting<T, R> {
  item: T;
  resolve(value: R): void;
  reject(err: unknown): void;
}

export class GroupCommitWriter<T, R> {
  private queue: Waiting<T, R>[] = [];
  private inFlight = 0;
  private gathering = false;
  private readonly maxGroup: number;
  private readonly maxInFlight: number;

  constructor(private readonly options: GroupCommitOptions<T, R>) {
    this.maxGroup = options.maxGroup ?? 200;
    this.maxInFlight = options.maxInFlight ?? 2;
  }

  /** Resolves once the item is committed (or rejects with its own error); never before. */
  write(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.options.gather) this.pump();
      else if (!this.gathering) {
        this.gathering = true;
        setImmediate(() => {
          this.gathering = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const group = this.queue.splice(0, this.maxGroup);
      this.inFlight += 1;
      void this.run(group).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async run(group: Waiting<T, R>[]): Promise<void> {
    const { writeOne } = this.options;
    if (group.length === 1 && writeOne) {
      await this.writeAlone(group[0]!, writeOne);
      return;
    }
    let outcomes: GroupOutcome<R>[];
    try {
      outcomes = await this.options.writeGroup(group.map((w) => w.item));
    } catch (err) {
      this.options.onGroupFailed?.(err, group.length);
      if (!writeOne) {
        for (const waiting of group) waiting.reject(err);
        return;
      }
      // One bad member must not fail the others: each is retried on its own and gets its own
      // answer. In group order and one after another, so two members with the same key still
      // meet as they would have had they come one by one.
      for (const waiting of group) await this.writeAlone(waiting, writeOne);
      return;
    }
    group.forEach((waiting, i) => {
      const outcome = outcomes[i];
      if (!outcome) waiting.reject(new Error(`group commit: no outcome for member ${i} of ${group.length}`));
      else if (outcome.ok) waiting.resolve(outcome.value);
      else waiting.reject(outcome.error);
    });
  }

  private async writeAlone(waiting: Waiting<T, R>, writeOne: (item: T) => Promise<R>): Promise<void> {
    try {
      waiting.resolve(await writeOne(waiting.item));
    } catch (err) {
      waiting.reject(err);
    }
  }
}
