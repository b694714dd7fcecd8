import type { Pool } from 'pg';
import { withTransaction } from '@griddispatch/db';
import type { Logger } from '@griddispatch/observability';
import { displayRecipient } from '../channels/recipient.ts';
import type { Channel, ChannelName, DeliveryPayload, SendOutcome } from '../channels/types.ts';
import { SCHEMA } from '../schema.ts';
import { RateLimiter, type RateSpec } from './rate-limiter.ts';
import { ResultWriter, type AttemptResult } from './result-writer.ts';
import { nextStep, type RetryPolicy } from './retry-policy.ts';
import { Wakeup } from './wakeup.ts';

// The delivery worker: claims due pending deliveries, sends them through their channel, records
// the attempt and decides what comes next (retry with backoff, delivered, failed, dead letter).
//
// Claiming is one UPDATE over a `FOR UPDATE SKIP LOCKED` selection that also pushes
// next_attempt_at one lease ahead, so replicas never claim the same row, and a row claimed by a
// process that died becomes due again when its lease runs out. The send happens outside any
// transaction (no connection is held while a receiver thinks), and the result is written only if
// the row is still the one we claimed (same attempt count).

export interface DeliveryWorkerOptions {
  pool: Pool;
  channels: Record<ChannelName, Channel>;
  retry: RetryPolicy;
  rates: Partial<Record<ChannelName, RateSpec | null>>;
  /** Sends in flight at once. */
  concurrency: number;
  /** Safety poll when nothing wakes the worker. */
  pollMs: number;
  /** How long a claim holds a row; must exceed the longest send (the HTTP timeout). */
  leaseMs: number;
  now: () => Date;
  random?: () => number;
  logger: Logger;
  /** Rows one `tick()` claims at most. Default 500. */
  batchSize?: number;
  /** Called after every attempt (metrics). */
  onAttempt?: (channel: ChannelName, outcome: SendOutcome['kind'], latencyMs: number) => void;
}

interface ClaimedRow {
  id: string;
  event_id: string;
  work_order_id: string | null;
  channel: ChannelName;
  recipient: string;
  subscription_id: string | null;
  payload: DeliveryPayload;
  attempts: number;
  /** The subscription (webhooks), null when it was deleted. */
  sub_url: string | null;
  sub_secret: string | null;
  sub_status: 'active' | 'disabled' | null;
  sub_disabled_reason: string | null;
  /** Wall-clock ms when this worker's lease on the row ends (set after the claim, not a column). */
  leaseEndsAt: number;
}

const T = `${SCHEMA}.deliveries`;

/** A result write stops retrying this long before the lease ends, so no other worker has resent it yet. */
const RESULT_WRITE_MARGIN_MS = 5_000;

export class DeliveryWorker {
  private readonly limiter: RateLimiter<ChannelName>;
  private readonly results: ResultWriter;
  private readonly random: () => number;
  private readonly batchSize: number;
  private running = false;
  private loopDone: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly wakeup: Wakeup;
  /** Earliest next_attempt_at this worker set (ms), so the loop wakes for it without polling. */
  private nextDueAt: number | null = null;
  /** Rows put off for a rate limit → when their reserved token is due (ms). */
  private readonly reserved = new Map<string, number>();
  private reservationsPrunedAt = 0;

  constructor(private readonly o: DeliveryWorkerOptions) {
    this.limiter = new RateLimiter(o.rates, o.now);
    this.results = new ResultWriter(o.pool);
    this.wakeup = new Wakeup(o.pool, o.logger);
    this.random = o.random ?? Math.random;
    this.batchSize = o.batchSize ?? 500;
  }

  /** Claims every due delivery (up to the batch size), sends them and records the results. */
  async tick(): Promise<number> {
    const rows = await this.claim(this.batchSize);
    const queue = rows.slice();
    const lanes = Array.from({ length: Math.min(this.o.concurrency, queue.length) }, async () => {
      for (let row = queue.shift(); row; row = queue.shift()) await this.process(row);
    });
    await Promise.all(lanes);
    return rows.length;
  }

  /** Prompt delivery: the consumer calls this after committing new deliveries. */
  wake(): void {
    this.wakeup.wake();
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.wakeup.listen();
    this.loopDone = this.loop();
  }

  /** Stops claiming, lets the sends in flight finish and record their results. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loopDone;
    await Promise.all([...this.inFlight]);
    await this.wakeup.unlisten();
  }

  isRunning(): boolean {
    return this.running;
  }

  /** Pending deliveries (for /metrics). */
  async backlog(): Promise<number> {
    const { rows } = await this.o.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${T} WHERE status = 'pending'`);
    return Number(rows[0]?.n ?? 0);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const free = this.o.concurrency - this.inFlight.size;
      let claimed = 0;
      if (free > 0) {
        // Whatever was due by now is claimed below; later times are noted again as they are set.
        if (this.nextDueAt !== null && this.nextDueAt <= this.o.now().getTime()) this.nextDueAt = null;
        try {
          const rows = await this.claim(free);
          claimed = rows.length;
          for (const row of rows) {
            const p: Promise<void> = this.process(row).finally(() => {
              this.inFlight.delete(p);
              this.wake();
            });
            this.inFlight.add(p);
          }
        } catch (err) {
          this.o.logger.error({ err }, 'delivery worker: claiming failed; retrying after the poll interval');
        }
      }
      if (!this.running) break;
      if (free > 0 && claimed === free) continue;
      if (!this.wakeup.listening()) await this.wakeup.listen();
      await this.wakeup.sleep(free > 0 ? this.untilNextDue() : this.o.pollMs);
    }
  }

  /**
   * How long the loop may sleep: until the earliest retry or deferral this worker scheduled, at
   * most the poll interval (which also finds rows other replicas scheduled, or left behind).
   */
  private untilNextDue(): number {
    if (this.nextDueAt === null) return this.o.pollMs;
    return Math.min(this.o.pollMs, Math.max(0, this.nextDueAt - this.o.now().getTime()));
  }

  private noteDue(at: Date): void {
    const t = at.getTime();
    if (this.nextDueAt === null || t < this.nextDueAt) this.nextDueAt = t;
  }

  /**
   * Claims due rows (pushing them one lease ahead) and joins their subscription, in one statement.
   * The claim commits without waiting for the WAL flush (`synchronous_commit` off for this
   * statement's transaction only): a claim lost in a database crash merely makes the row due
   * again at its old time — the same as a claim whose worker died — while the results, which
   * must not be lost, are written with the normal durable commit.
   */
  private async claim(limit: number): Promise<ClaimedRow[]> {
    const now = this.o.now();
    const claimedAt = Date.now();
    const { rows } = await this.o.pool.query<Omit<ClaimedRow, 'leaseEndsAt'>>(
      `WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true) AS setting),
       due AS (
         SELECT id FROM ${T}
          WHERE status = 'pending' AND next_attempt_at <= $1 AND (SELECT setting FROM relaxed) = 'off'
          ORDER BY next_attempt_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED),
       claimed AS (
         UPDATE ${T} d SET next_attempt_at = $3
           FROM due WHERE d.id = due.id
         RETURNING d.id, d.event_id, d.work_order_id, d.channel, d.recipient, d.subscription_id, d.payload, d.attempts)
       SELECT c.*, s.url AS sub_url, s.secret AS sub_secret, s.status AS sub_status, s.disabled_reason AS sub_disabled_reason
         FROM claimed c LEFT JOIN ${SCHEMA}.subscriptions s ON s.id = c.subscription_id`,
      [now, limit, new Date(now.getTime() + this.o.leaseMs)],
    );
    const leaseEndsAt = claimedAt + this.o.leaseMs;
    return rows.map((row) => ({ ...row, leaseEndsAt }));
  }

  /**
   * The send happened: its result must land, or the lease brings the row back and the recipient
   * gets the message twice. While the database is briefly away (a restart, a failover) the write
   * is retried for as long as this worker's lease holds — nobody else sends the row meanwhile —
   * keeping a margin; only then the error is left to the lease.
   */
  private async writeResult(row: ClaimedRow, log: Logger, result: AttemptResult): Promise<boolean> {
    const giveUpAt = row.leaseEndsAt - RESULT_WRITE_MARGIN_MS;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.results.write(result);
      } catch (err) {
        if (Date.now() >= giveUpAt) throw err;
        const retryInMs = Math.min(1_000, 50 * 2 ** attempt, Math.max(0, giveUpAt - Date.now()));
        log.warn({ err, attempt, retryInMs }, 'delivery result not written yet (database unavailable?); retrying while the lease holds');
        await new Promise((resolve) => setTimeout(resolve, retryInMs));
      }
    }
  }

  private async process(row: ClaimedRow): Promise<void> {
    const log = this.o.logger.child({ deliveryId: row.id, eventId: row.event_id, workOrderId: row.work_order_id, channel: row.channel });
    try {
      let webhook: { url: string; secret: string } | undefined;
      if (row.subscription_id) {
        if (row.sub_status !== 'active' || !row.sub_url || !row.sub_secret) {
          const reason = row.sub_status ? `subscription disabled: ${row.sub_disabled_reason ?? 'no reason given'}` : 'subscription deleted';
          await this.finishUnsent(row, reason);
          log.info({ subscriptionId: row.subscription_id, reason }, 'delivery dropped: its subscription is gone');
          return;
        }
        webhook = { url: row.sub_url, secret: row.sub_secret };
      }
      if (await this.putOffForRateLimit(row)) return;
      await this.send(row, webhook, log);
    } catch (err) {
      // The lease brings the row back; nothing is lost, the attempt is simply not counted.
      log.error({ err }, 'delivery worker: could not process a delivery; it is retried when its lease ends');
    }
  }

  private async send(row: ClaimedRow, webhook: { url: string; secret: string } | undefined, log: Logger): Promise<void> {
    const channel = this.o.channels[row.channel];
    const startedAt = this.o.now();
    const t0 = performance.now();
    let outcome: SendOutcome;
    try {
      outcome = await channel.send({ deliveryId: row.id, recipient: row.recipient, payload: row.payload, now: startedAt, ...(webhook ? { webhook } : {}) });
    } catch (err) {
      outcome = { kind: 'retry', statusCode: null, error: `channel error: ${(err as Error).message}` };
    }
    const latencyMs = Math.round(performance.now() - t0);
    const attempts = row.attempts + 1;
    const now = this.o.now();
    const step = nextStep(this.o.retry, outcome, attempts, now, this.random);
    const error = outcome.kind === 'delivered' ? null : outcome.error;
    this.o.onAttempt?.(row.channel, outcome.kind, latencyMs);

    const recorded = await this.writeResult(row, log, {
      deliveryId: row.id,
      claimedAttempts: row.attempts,
      status: step.status,
      attempts,
      outcome: outcome.kind,
      statusCode: outcome.statusCode,
      error,
      latencyMs,
      nextAttemptAt: step.status === 'pending' ? step.nextAttemptAt : null,
      deliveredAt: step.status === 'delivered' ? now : null,
      startedAt,
      now,
    });
    if (!recorded) {
      // Another worker took the row over after our lease ran out; its result stands.
      log.warn('delivery result not recorded: the row was claimed again meanwhile');
      return;
    }
    if (step.status === 'failed' && step.disableSubscription && row.subscription_id) {
      await this.disableSubscription(row.subscription_id, `receiver answered HTTP 410 Gone at ${now.toISOString()}`, now);
    }

    if (step.status === 'pending') this.noteDue(step.nextAttemptAt);
    const detail = { attempt: attempts, statusCode: outcome.statusCode, latencyMs, subscriptionId: row.subscription_id };
    switch (step.status) {
      case 'delivered':
        log.debug(detail, 'delivered');
        break;
      case 'pending':
        log.info({ ...detail, error, nextAttemptAt: step.nextAttemptAt.toISOString() }, 'delivery failed; will retry');
        break;
      case 'failed':
        log.warn({ ...detail, error, subscriptionDisabled: step.disableSubscription }, 'delivery failed for good');
        break;
      case 'dead':
        log.warn({ ...detail, error, recipient: displayRecipient(row.channel, row.recipient) }, 'delivery dead-lettered after its last attempt');
        break;
    }
  }

  /** The subscription and its deliveries not yet sent, in one transaction. */
  private async disableSubscription(subscriptionId: string, reason: string, now: Date): Promise<void> {
    await withTransaction(this.o.pool, async (client) => {
      await client.query(
        `UPDATE ${SCHEMA}.subscriptions SET status = 'disabled', disabled_reason = $2, updated_at = $3 WHERE id = $1 AND status = 'active'`,
        [subscriptionId, reason, now],
      );
      await client.query(
        `UPDATE ${T} SET status = 'failed', last_error = $2, next_attempt_at = NULL, updated_at = $3
          WHERE subscription_id = $1 AND status = 'pending'`,
        [subscriptionId, `subscription disabled: ${reason}`, now],
      );
    });
    this.o.logger.warn({ subscriptionId, reason }, 'subscription disabled');
  }

  private async finishUnsent(row: ClaimedRow, reason: string): Promise<void> {
    await this.o.pool.query(
      `UPDATE ${T} SET status = 'failed', last_error = $2, next_attempt_at = NULL, updated_at = $3
        WHERE id = $1 AND attempts = $4 AND status = 'pending'`,
      [row.id, reason, this.o.now(), row.attempts],
    );
  }

  /**
   * Over its channel's rate, a row is put off once, to the time of the token it reserves (a robot
   * with 60 messages waiting at 20 a minute gets them at 3 s intervals), and sent without another
   * token when it comes back to this worker: one UPDATE per row, not one per row per poll.
   */
  private async putOffForRateLimit(row: ClaimedRow): Promise<boolean> {
    if (this.reserved.delete(row.id)) return false;
    const waitMs = this.limiter.reserve(row.channel, row.channel === 'wecom' ? row.recipient : '');
    if (waitMs === 0) return false;
    const now = this.o.now().getTime();
    const at = now + waitMs;
    // Reservations of rows another replica sent (or that were dropped) are forgotten a lease later.
    if (now - this.reservationsPrunedAt > this.o.leaseMs) {
      for (const [id, due] of this.reserved) if (due < now - this.o.leaseMs) this.reserved.delete(id);
      this.reservationsPrunedAt = now;
    }
    this.reserved.set(row.id, at);
    await this.o.pool.query(`UPDATE ${T} SET next_attempt_at = $2 WHERE id = $1 AND attempts = $3 AND status = 'pending'`, [row.id, new Date(at), row.attempts]);
    this.noteDue(new Date(at));
    return true;
  }
}
