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

  /** Takes a token if one is there. */
  tryTake(): boolean {
    this.refill();
    if (this.available >= 1) {
      this.available -= 1;
      return true;
    }
    return false;
  }

  /** Milliseconds until the next token (0 when one is available now). */
  waitMs(): number {
    this.refill();
    if (this.available >= 1) return 0;
    return Math.ceil(((1 - this.available) * this.spec.perMs) / this.spec.tokens);
  }
}

/** One bucket per key (channel); keys without a spec are never limited. */
export class RateLimiter<K extends string> {
  private readonly buckets = new Map<K, TokenBucket>();

  constructor(specs: Partial<Record<K, RateSpec | null>>, now: () => Date) {
    for (const [key, spec] of Object.entries(specs) as [K, RateSpec | null][]) {
      if (spec) this.buckets.set(key, new TokenBucket(spec, now));
    }
  }

  tryTake(key: K): boolean {
    return this.buckets.get(key)?.tryTake() ?? true;
  }

  waitMs(key: K): number {
    return this.buckets.get(key)?.waitMs() ?? 0;
  }
}
