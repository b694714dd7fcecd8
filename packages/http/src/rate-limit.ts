import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Logger } from '@griddispatch/observability';

export interface RateDecision {
  ok: boolean;
  /** The key's limit per window. */
  limit: number;
  /** When refused: seconds until it is worth trying again. */
  retryAfterSeconds: number;
}

interface KeyState {
  limit: number;
  /** All replicas' count for this key and window, as of the last sync (ours included). */
  shared: number;
  /** Our admissions since the last sync, not yet in `shared`. */
  sinceSync: number;
  /** The previous window's total as last known: it still counts, fading over this window. */
  previous: number;
}

export interface SharedRateLimiterOptions {
  pool: Pool;
  logger: Logger;
  windowMs: number;
  /** Default 1 s. */
  syncMs?: number;
}

/**
 * Per-key request limits that hold across replicas, without a database round trip per request.
 *
 * Windows of one minute by default (the previous window's count fading over the current one, so
 * the limit holds over any minute, approximately, not just within clock minutes). Every replica counts its own admissions in memory and,
 * once a second, in ONE statement: adds them to `auth.rate_usage` (a row per key, window and
 * replica), marks itself alive in `auth.rate_replicas`, and reads back each key's total and the
 * number of live replicas N. Between two syncs a replica admits at most
 * `floor((limit − total) / N)` requests of a key (at least one while any is left): its lease on
 * an equal share of what is left. The shares add up to what is left, so N replicas together stay
 * within the limit, plus at most N−1 when fewer than N are left (while N is known; a replica that
 * has just started takes up to limit/N before its first sync), and N−1 more when replicas sync at
 * the same moment: one sync's statement cannot see the counts a concurrent one is adding, so each
 * may lease once more until the next sync corrects the total. A refused caller may be told to
 * retry in a second: its replica's share is spent, others may still have some.
 * A sync that fails (database down) is logged; admissions continue against the last known total.
 */
export class SharedRateLimiter {
  private readonly replica = randomUUID();
  private readonly syncMs: number;
  private window = -1;
  private keys = new Map<string, KeyState>();
  private replicas = 1;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private syncs = 0;

  constructor(private readonly options: SharedRateLimiterOptions) {
    this.syncMs = options.syncMs ?? 1_000;
  }

  take(keyName: string, limit: number, now = Date.now()): RateDecision {
    this.roll(now);
    let state = this.keys.get(keyName);
    if (!state) {
      state = { limit, shared: 0, sinceSync: 0, previous: 0 };
      this.keys.set(keyName, state);
    }
    state.limit = limit;
    const { windowMs } = this.options;
    const windowStart = this.window * windowMs;
    // A sliding window, approximated: the previous window's count weighs what is left of it, so a
    // caller cannot spend two windows' worth around a boundary.
    const carried = Math.ceil(state.previous * (1 - (now - windowStart) / windowMs));
    const left = limit - carried - state.shared;
    // Fewer left than replicas: one each rather than none (a 1/min key must still get its one).
    const lease = left > 0 ? Math.max(1, Math.floor(left / this.replicas)) : 0;
    if (state.sinceSync < lease && carried + state.shared + state.sinceSync < limit) {
      state.sinceSync += 1;
      return { ok: true, limit, retryAfterSeconds: 0 };
    }
    const current = state.shared + state.sinceSync;
    let waitMs: number;
    if (left - state.sinceSync > 0)
      waitMs = 1_000; // other replicas may still have a share
    else if (current < limit && state.previous > 0) {
      // When the previous window has faded enough to make room for one more.
      waitMs = windowStart + windowMs * (1 - (limit - current - 1) / state.previous) - now;
    } else waitMs = windowStart + windowMs - now;
    return { ok: false, limit, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sync(), this.syncMs);
    this.timer.unref();
    void this.sync();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.syncing;
    // Leave the live set at once, so the others' shares grow back without waiting.
    await this.options.pool.query('DELETE FROM auth.rate_replicas WHERE replica = $1', [this.replica]).catch(() => undefined);
  }

  private roll(now: number): void {
    const window = Math.floor(now / this.options.windowMs);
    if (window === this.window) return;
    const next = new Map<string, KeyState>();
    if (window === this.window + 1) {
      for (const [name, s] of this.keys) next.set(name, { limit: s.limit, shared: 0, sinceSync: 0, previous: s.shared + s.sinceSync });
    }
    this.window = window;
    this.keys = next;
  }

  /** One round trip: add our counts, say we are alive, read every tracked key's total and N. */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    this.roll(Date.now());
    const window = this.window;
    const names = [...this.keys.keys()];
    const sent = names.map((n) => this.keys.get(n)!.sinceSync);
    const windowStart = window * this.options.windowMs;
    try {
      const res = await this.options.pool.query<{ key_name: string | null; n: number }>(
        `WITH beat AS (
           INSERT INTO auth.rate_replicas (replica, seen_at) VALUES ($1, now())
           ON CONFLICT (replica) DO UPDATE SET seen_at = now()),
         added AS (
           INSERT INTO auth.rate_usage (key_name, window_start, replica, count)
           SELECT k, $2, $1, c FROM unnest($3::text[], $4::int[]) AS d(k, c) WHERE c > 0
           ON CONFLICT (key_name, window_start, replica) DO UPDATE SET count = auth.rate_usage.count + EXCLUDED.count)
         SELECT NULL::text AS key_name, count(*)::int AS n FROM auth.rate_replicas
           WHERE replica <> $1 AND seen_at > now() - make_interval(secs => $5)
         UNION ALL
         SELECT key_name, sum(count)::int FROM auth.rate_usage
           WHERE window_start = $2 AND key_name = ANY($3::text[]) GROUP BY key_name`,
        [this.replica, windowStart, names, sent, (this.syncMs * 5) / 1000],
      );
      // The statement's reads saw the table before its own insert: our part is added here.
      const totals = new Map<string, number>();
      for (const row of res.rows) {
        if (row.key_name === null) this.replicas = row.n + 1;
        else totals.set(row.key_name, row.n);
      }
      if (this.window === window) {
        names.forEach((name, i) => {
          const state = this.keys.get(name);
          if (!state) return;
          state.sinceSync -= sent[i]!;
          state.shared = (totals.get(name) ?? 0) + sent[i]!;
        });
      }
      if (++this.syncs % 60 === 0) await this.sweep(windowStart);
    } catch (err) {
      this.options.logger.warn({ err }, 'rate limit: could not share counts with the other replicas; using the last known totals');
    }
  }

  private async sweep(windowStart: number): Promise<void> {
    await this.options.pool.query('DELETE FROM auth.rate_usage WHERE window_start < $1', [windowStart - this.options.windowMs]);
    await this.options.pool.query("DELETE FROM auth.rate_replicas WHERE seen_at < now() - interval '1 hour'");
  }
}
