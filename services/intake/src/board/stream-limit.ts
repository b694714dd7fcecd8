// Open event streams per API key on this replica (issue 17.5): each stream holds a socket, a hub
// subscription and up to 1 MiB of buffer, so one key opening thousands would starve the boards
// of everyone else. Kept apart from authentication, which only says whose key it is.

export class StreamLimit {
  private readonly open = new Map<string, number>();

  constructor(readonly maxPerKey: number) {}

  /** A release function when `keyName` may open one more stream, else null. Release is idempotent. */
  acquire(keyName: string): (() => void) | null {
    const n = this.open.get(keyName) ?? 0;
    if (n >= this.maxPerKey) return null;
    this.open.set(keyName, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(keyName) ?? 1) - 1;
      if (left <= 0) this.open.delete(keyName);
      else this.open.set(keyName, left);
    };
  }
}
