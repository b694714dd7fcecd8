// Token bucket per channel: a WeCom group robot takes 20 messages a minute, an SMS gateway a
// contracted rate; sending faster only earns rate-limit errors. The clock is injected so tests
// move time by hand.

export interface RateSpec {
  /** Tokens added per `perMs`; also the bucket's capacity (the burst). */
  tokens: number;
  perMs: number;
}

/** Parses `20/m`, `50/s`, `1000/h`; `0` or `unlimited` → null (no limit). */
export function parseRate(value: string): RateSpec | null {
  const v = value.trim().toLowerCase();
  if (v === '0' || v === 'unlimited' || v === '') return null;
  const m = /^(\d+(?:\.\d+)?)\s*\/\s*(s|m|h)$/.exec(v);
  if (!m) throw new Error(`invalid rate "${value}": expected e.g. 20/m, 50/s, 1000/h or unlimited`);
  const unit = { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
  return { tokens: Number(m[1]), perMs: unit };
}

export class TokenBucket {
  private available: number;
  private last: number;

  constructor(
    private readonly spec: RateSpec,
    private readonly now: () => Date,
  ) {
    this.available = spec.tokens;
    this.last = now().getTime();
  }

  private refill(): void {
    const t = this.now().getTime();
    const elapsed = Math.max(0, t - this.last);
    this.last = t;
    this.available = Math.min(this.spec.tokens, this.available + (elapsed * this.spec.tokens) / this.spec.perMs);
  }

  /**
   * Takes the next token, now or later: milliseconds until it is the caller's (0: now). The
   * bucket goes into debt, so each later caller queues behind the earlier ones.
   */
  reserve(): number {
    this.refill();
    this.available -= 1;
    return this.available >= 0 ? 0 : Math.ceil((-this.available * this.spec.perMs) / this.spec.tokens);
  }

  /**
   * How many of `max` tokens are there now, without taking them: a bulk sender (the customer
   * lane) asks this before it claims and yields to those that reserve (staff messages queue
   * ahead of it while the bucket is in debt).
   */
  peek(max: number): number {
    this.refill();
    return Math.max(0, Math.min(max, Math.floor(this.available)));
  }

  /** Takes `n` tokens now (after `peek`; a reservation made meanwhile may leave a small debt). */
  take(n: number): void {
    this.refill();
    this.available -= n;
  }

  /** Milliseconds until `n` whole tokens are there (0: now); at most a full bucket is waited for. */
  untilNext(n = 1): number {
    this.refill();
    const wanted = Math.min(n, this.spec.tokens);
    return this.available >= wanted ? 0 : Math.ceil(((wanted - this.available) * this.spec.perMs) / this.spec.tokens);
  }
}

/**
 * Buckets per channel; a channel's limit applies to each `scope` separately when one is given
 * (each WeCom robot has its own 20-a-minute limit). Channels without a spec are never limited.
 */
export class RateLimiter<C extends string> {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly specs: Partial<Record<C, RateSpec | null>>,
    private readonly now: () => Date,
  ) {}

  private bucket(channel: C, scope: string): TokenBucket | undefined {
    const spec = this.specs[channel];
    if (!spec) return undefined;
    const key = `${channel}\u0000${scope}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(spec, this.now);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** See `TokenBucket.reserve`; 0 for a channel without a limit. */
  reserve(channel: C, scope = ''): number {
    return this.bucket(channel, scope)?.reserve() ?? 0;
  }

  /** See `TokenBucket.peek`; `max` for a channel without a limit. */
  peek(channel: C, max: number, scope = ''): number {
    return this.bucket(channel, scope)?.peek(max) ?? max;
  }

  take(channel: C, n: number, scope = ''): void {
    if (n > 0) this.bucket(channel, scope)?.take(n);
  }

  untilNext(channel: C, n = 1, scope = ''): number {
    return this.bucket(channel, scope)?.untilNext(n) ?? 0;
  }
}
