/**
 * Failed authentications per client address, checked BEFORE a key is looked up: once an
 * address has failed `max` times in a window, its unknown keys are answered 429 without
 * touching the database until the window ends. Keys already known (cached) still pass, so a
 * client sharing an address with an attacker (a NAT, a proxy) keeps working.
 *
 * In memory, per process: an attacker spreading over N replicas gets N × max tries a window —
 * still nothing against 128-bit secrets; the point is the database and the log, not the odds.
 */
export class AuthFailureLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    /** Failures per window per address; 0: no limit. */
    readonly max: number,
    readonly windowMs = 60_000,
    private readonly maxAddresses = 100_000,
  ) {}

  /** Seconds until the address may try again, or 0 when it may try now. */
  retryAfterSeconds(address: string, now = Date.now()): number {
    if (this.max === 0) return 0;
    const w = this.windows.get(address);
    if (!w || now - w.start >= this.windowMs || w.failures < this.max) return 0;
    return Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000));
  }

  fail(address: string, now = Date.now()): void {
    if (this.max === 0) return;
    const w = this.windows.get(address);
    if (w && now - w.start < this.windowMs) {
      w.failures += 1;
      return;
    }
    if (w) this.windows.delete(address);
    else if (this.windows.size >= this.maxAddresses) this.sweep(now);
    this.windows.set(address, { start: now, failures: 1 });
  }

  private sweep(now: number): void {
    for (const [address, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(address);
    // Still full of live windows (a wide spray): forget the oldest half rather than grow.
    if (this.windows.size >= this.maxAddresses) {
      let n = Math.floor(this.windows.size / 2);
      for (const address of this.windows.keys()) {
        if (n-- <= 0) break;
        this.windows.delete(address);
      }
    }
  }
}
