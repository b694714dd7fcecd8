import type { Pool } from 'pg';
import { withTransaction } from '@griddispatch/db';
import type { Logger } from '@griddispatch/observability';
import type { SendOutcome } from '../channels/types.ts';
import { SCHEMA } from '../schema.ts';
import type { ClaimedRow } from './claim.ts';

// A subscription whose receiver keeps failing is switched off (issue 17.5): `failing_since` is
// set by the first failed attempt after a success and cleared by the next success; a failure
// when it is older than NOTIFY_WEBHOOK_DISABLE_AFTER (default a day) disables the subscription.
// The claim brings `failing_since` along, so a healthy receiver costs no extra statement and a
// failing one one UPDATE at its first failure only.

export class SubscriptionHealth {
  constructor(
    private readonly pool: Pool,
    private readonly disableAfterMs: number,
    private readonly logger: Logger,
  ) {}

  /** After a webhook attempt of `row` (its subscription active) ended with `outcome`. */
  async record(row: ClaimedRow, outcome: SendOutcome, now: Date): Promise<void> {
    const id = row.subscription_id;
    if (!id || outcome.kind === 'gone') return;
    if (outcome.kind === 'delivered') {
      if (row.sub_failing_since !== null) await this.pool.query(`UPDATE ${SCHEMA}.subscriptions SET failing_since = NULL WHERE id = $1`, [id]);
      return;
    }
    let since = row.sub_failing_since;
    if (since === null) {
      const { rows } = await this.pool.query<{ failing_since: Date }>(
        `UPDATE ${SCHEMA}.subscriptions SET failing_since = coalesce(failing_since, $2) WHERE id = $1 AND status = 'active' RETURNING failing_since`,
        [id, now],
      );
      since = rows[0]?.failing_since ?? null;
    }
    if (since !== null && now.getTime() - since.getTime() >= this.disableAfterMs) {
      // The success that would have cleared the mark may have happened on another replica that
      // claimed its row before the mark was set (and so did not know to clear it): look first.
      // This runs once per subscription a day at most.
      const { rows } = await this.pool.query<{ last: Date | null }>(
        `SELECT max(delivered_at) AS last FROM ${SCHEMA}.deliveries WHERE subscription_id = $1 AND delivered_at >= $2`,
        [id, since],
      );
      const last = rows[0]?.last ?? null;
      if (last !== null) {
        await this.pool.query(`UPDATE ${SCHEMA}.subscriptions SET failing_since = $2 WHERE id = $1`, [id, now]);
        return;
      }
      await this.disable(id, `no delivery succeeded since ${since.toISOString()}`, now);
    }
  }

  /** The subscription and its deliveries not yet sent, in one transaction. */
  async disable(subscriptionId: string, reason: string, now: Date): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      await client.query(`UPDATE ${SCHEMA}.subscriptions SET status = 'disabled', disabled_reason = $2, updated_at = $3 WHERE id = $1 AND status = 'active'`, [
        subscriptionId,
        reason,
        now,
      ]);
      await client.query(
        `UPDATE ${SCHEMA}.deliveries SET status = 'failed', last_error = $2, next_attempt_at = NULL, updated_at = $3
          WHERE subscription_id = $1 AND status = 'pending'`,
        [subscriptionId, `subscription disabled: ${reason}`, now],
      );
    });
    this.logger.warn({ subscriptionId, reason }, 'subscription disabled');
  }
}
