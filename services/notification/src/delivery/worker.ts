import type { Pool } from 'pg';
import { GroupCommitWriter } from '@griddispatch/db';
import { withClientSpan, type Logger } from '@griddispatch/observability';
import { displayRecipient } from '../channels/recipient.ts';
import type { Channel, ChannelName, SendOutcome, SendRequest } from '../channels/types.ts';
import { SCHEMA } from '../schema.ts';
import { ChannelHealth } from './channel-health.ts';
import { claimDue, laneOf, releaseClaims, type ClaimedRow, type LaneName } from './claim.ts';
import { Lane } from './lane.ts';
import { RateLimiter, type RateSpec } from './rate-limiter.ts';
import { ResultWriter, type AttemptResult } from './result-writer.ts';
import { nextStep, type RetryPolicy } from './retry-policy.ts';
import { SubscriptionHealth } from './subscription-health.ts';
import { Wakeup } from './wakeup.ts';

// The delivery worker: claims due pending deliveries (claim.ts), sends them through their
// channel, records the attempt and decides what comes next (retry with backoff, delivered,
// failed, dead letter). Two lanes (lane.ts) claim and send independently: staff messages and
// integrators' webhooks. The send happens outside any transaction (no connection is held while a
// receiver thinks), and the result is written only if the row is still the one we claimed (same
// attempt count).

export interface DeliveryWorkerOptions {
  pool: Pool;
  channels: Record<ChannelName, Channel>;
  retry: RetryPolicy;
  rates: Partial<Record<ChannelName, RateSpec | null>>;
  /** Staff messages (SMS, WeCom, log) in flight at once. */
  concurrency: number;
  /** Customer messages (SMS to an outage's accounts) in flight at once; default `concurrency`. */
  customerConcurrency?: number;
  /** The webhook lane: sends in flight at once, per subscription, and when a failing subscription is disabled. */
  webhook: { concurrency: number; perSubscription: number; disableAfterMs: number };
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
  onAttempt?: (channel: ChannelName, outcome: SendOutcome, latencyMs: number) => void;
}

const T = `${SCHEMA}.deliveries`;

/** A row put off to the token its channel's rate limit reserved for it. */
interface PutOff {
  id: string;
  attempts: number;
  at: Date;
}

/** A result write stops retrying this long before the lease ends, so no other worker has resent it yet. */
const RESULT_WRITE_MARGIN_MS = 5_000;

export class DeliveryWorker {
  private readonly limiter: RateLimiter<ChannelName>;
  private readonly results: ResultWriter;
  private readonly putOffs: GroupCommitWriter<PutOff, void>;
  private readonly health: SubscriptionHealth;
  private readonly random: () => number;
  private readonly batchSize: number;
  private running = false;
  private readonly wakeup: Wakeup;
  private readonly lanes: Record<LaneName, Lane>;
  /** Rows put off for a rate limit → when their reserved token is due (ms). */
  private readonly reserved = new Map<string, number>();
  private reservationsPrunedAt = 0;
  /** Channels whose vendor refuses their configuration are held (channel-health.ts). */
  private readonly channelHealth = new ChannelHealth();

  constructor(private readonly o: DeliveryWorkerOptions) {
    this.limiter = new RateLimiter(o.rates, o.now);
    this.results = new ResultWriter(o.pool);
    this.putOffs = new GroupCommitWriter<PutOff, void>({
      maxGroup: 500,
      maxInFlight: 1,
      writeGroup: async (rows) => {
        await o.pool.query(
          `UPDATE ${T} d SET next_attempt_at = v.at FROM unnest($1::uuid[], $2::int[], $3::timestamptz[]) AS v(id, attempts, at)
            WHERE d.id = v.id AND d.attempts = v.attempts AND d.status = 'pending'`,
          [rows.map((r) => r.id), rows.map((r) => r.attempts), rows.map((r) => r.at)],
        );
        return rows.map(() => ({ ok: true, value: undefined }));
      },
    });
    this.health = new SubscriptionHealth(o.pool, o.webhook.disableAfterMs, o.logger);
    this.wakeup = new Wakeup(o.pool, o.logger);
    this.random = o.random ?? Math.random;
    this.batchSize = o.batchSize ?? 500;
    // Customers' SMS take only the rate tokens that are there when they claim: staff SMS, which
    // reserve theirs, always go first within the one limit the SMS vendor sets.
    const smsBudget = {
      peek: (n: number) => this.limiter.peek('sms', n),
      take: (n: number) => this.limiter.take('sms', n),
      untilNext: (n: number) => this.limiter.untilNext('sms', n),
    };
    const lane = (name: LaneName, concurrency: number, perSubscription: number | null) =>
      new Lane({
        ...(name === 'customer' ? { budget: smsBudget, minClaim: Math.max(1, Math.floor(concurrency / 4)) } : {}),
        name,
        concurrency,
        perSubscription,
        pollMs: o.pollMs,
        now: o.now,
        logger: o.logger,
        signal: this.wakeup.signal(name),
        claim: (limit, exclude) => claimDue(o.pool, name, limit, o.now(), o.leaseMs, exclude),
        release: (rows) => releaseClaims(o.pool, rows),
        process: (row) => this.process(row, name),
      });
    this.lanes = {
      staff: lane('staff', o.concurrency, null),
      webhook: lane('webhook', o.webhook.concurrency, o.webhook.perSubscription),
      customer: lane('customer', o.customerConcurrency ?? o.concurrency, null),
    };
  }

  /** Claims every due delivery (up to the batch size per lane), sends them and records the results. */
  async tick(): Promise<number> {
    const counts = await Promise.all([
      this.lanes.staff.tick(this.batchSize),
      this.lanes.webhook.tick(this.batchSize),
      this.lanes.customer.tick(this.batchSize),
    ]);
    return counts[0] + counts[1] + counts[2];
  }

  /**
   * Prompt delivery: called after this process committed new deliveries. Their insert's NOTIFY
   * wakes the lanes that got rows (this process hears its own); directly, all lanes, only while
   * the LISTEN connection is down.
   */
  wake(): void {
    if (!this.wakeup.listening()) this.wakeup.wake();
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.wakeup.listen();
    this.lanes.staff.start();
    this.lanes.webhook.start();
    this.lanes.customer.start();
  }

  /** Stops claiming, lets the sends in flight finish and record their results. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await Promise.all([this.lanes.staff.stop(), this.lanes.webhook.stop(), this.lanes.customer.stop()]);
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

  private noteDue(row: ClaimedRow, at: Date): void {
    this.lanes[laneOf(row)].noteDue(at);
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

  private async process(row: ClaimedRow, lane: LaneName): Promise<void> {
    const log = this.o.logger.child({ deliveryId: row.id, eventId: row.event_id, workOrderId: row.work_order_id, channel: row.channel });
    try {
      let webhook: SendRequest['webhook'];
      if (row.subscription_id) {
        if (row.sub_status !== 'active' || !row.sub_url || !row.sub_secret) {
          const reason = row.sub_status ? `subscription disabled: ${row.sub_disabled_reason ?? 'no reason given'}` : 'subscription deleted';
          await this.finishUnsent(row, reason);
          log.info({ subscriptionId: row.subscription_id, reason }, 'delivery dropped: its subscription is gone');
          return;
        }
        webhook = { url: row.sub_url, secret: row.sub_secret, piiRead: row.sub_pii_read === true };
      }
      const heldUntil = this.channelHealth.hold(row.channel, this.templateOf(row), this.o.now().getTime());
      if (heldUntil !== null) return await this.putOff(row, heldUntil);
      // The customer lane took its token when it claimed the row.
      if (lane !== 'customer' && (await this.putOffForRateLimit(row))) return;
      await this.send(row, webhook, log);
    } catch (err) {
      // The lease brings the row back; nothing is lost, the attempt is simply not counted.
      log.error({ err }, 'delivery worker: could not process a delivery; it is retried when its lease ends');
    }
  }

  private async send(row: ClaimedRow, webhook: SendRequest['webhook'], log: Logger): Promise<void> {
    const channel = this.o.channels[row.channel];
    const startedAt = this.o.now();
    const t0 = performance.now();
    let outcome: SendOutcome;
    try {
      const request: SendRequest = { deliveryId: row.id, recipient: row.recipient, payload: row.payload, now: startedAt, ...(webhook ? { webhook } : {}) };
      outcome = await withClientSpan(
        `notification.send ${row.channel}`,
        row.traceparent,
        { 'griddispatch.delivery.id': row.id, 'griddispatch.channel': row.channel },
        () => channel.send(request),
      );
    } catch (err) {
      outcome = { kind: 'retry', statusCode: null, error: `channel error: ${(err as Error).message}` };
    }
    const latencyMs = Math.round(performance.now() - t0);
    const attempts = row.attempts + 1;
    const now = this.o.now();
    const step = nextStep(this.o.retry, outcome, attempts, now, this.random);
    const error = 'error' in outcome ? outcome.error : null;
    this.o.onAttempt?.(row.channel, outcome, latencyMs);

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
      await this.health.disable(row.subscription_id, `receiver answered HTTP 410 Gone at ${now.toISOString()}`, now);
    } else if (webhook) {
      await this.health.record(row, outcome, now);
    }

    if (step.status === 'pending') this.noteDue(row, step.nextAttemptAt);
    this.channelHealth.note(row.channel, this.templateOf(row), outcome, step, now.getTime(), log);
    const detail = { attempt: attempts, statusCode: outcome.statusCode, latencyMs, subscriptionId: row.subscription_id };
    switch (step.status) {
      case 'delivered':
        log.debug(detail, 'delivered');
        break;
      case 'logged':
        log.debug(detail, 'logged (no vendor configured)');
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

  /** What a template refusal holds of this row (channels/sms.ts: its message kind), by its channel's rule. */
  private templateOf(row: ClaimedRow): string | null {
    return this.o.channels[row.channel].templateOf?.(row.payload) ?? null;
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
   * token when it comes back to this worker: one row in one coalesced UPDATE, not one per poll.
   */
  private async putOffForRateLimit(row: ClaimedRow): Promise<boolean> {
    if (this.reserved.delete(row.id)) return false;
    const waitMs = this.limiter.reserve(row.channel, this.o.channels[row.channel].rateBucket?.(row.recipient) ?? '');
    if (waitMs === 0) return false;
    const now = this.o.now().getTime();
    const at = now + waitMs;
    // Reservations of rows another replica sent (or that were dropped) are forgotten a lease later.
    if (now - this.reservationsPrunedAt > this.o.leaseMs) {
      for (const [id, due] of this.reserved) if (due < now - this.o.leaseMs) this.reserved.delete(id);
      this.reservationsPrunedAt = now;
    }
    this.reserved.set(row.id, at);
    await this.putOff(row, at);
    return true;
  }

  /** Back to pending until `at` (ms), unsent and without spending an attempt. */
  private async putOff(row: ClaimedRow, at: number): Promise<void> {
    await this.putOffs.write({ id: row.id, attempts: row.attempts, at: new Date(at) });
    this.noteDue(row, new Date(at));
  }
}
