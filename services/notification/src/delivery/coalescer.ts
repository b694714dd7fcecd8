// Group commit for one statement: an item waits only while the previous flush is in flight, and
// everything that queued meanwhile goes out in the next single statement. A lone item is written
// at once; under load, one round trip (and one fsync) covers many rows instead of one each.

interface Queued<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/** `flush` writes a batch and answers how each item fared. */
export type Flush<T, R> = (items: T[]) => Promise<(item: T) => R>;

export class Coalescer<T, R> {
  private queue: Queued<T, R>[] = [];
  private flushing = false;

  constructor(
    private readonly flush: Flush<T, R>,
    private readonly maxBatch = 500,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const outcome = await this.flush(batch.map((q) => q.item));
          for (const q of batch) q.resolve(outcome(q.item));
        } catch (err) {
          for (const q of batch) q.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
