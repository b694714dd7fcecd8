import type { Pool } from 'pg';
import type { ChannelName, DeliveryPayload } from '../channels/types.ts';
import { SCHEMA } from '../schema.ts';

// Claiming due deliveries for one lane of the worker. One UPDATE over a `FOR UPDATE SKIP LOCKED`
// selection pushes next_attempt_at one lease ahead, so replicas never claim the same row, and a
// row claimed by a process that died becomes due again when its lease runs out.

/**
 * The worker's lanes: staff messages (SMS, WeCom, log) never wait behind integrators' webhooks,
 * nor behind the thousands of SMS of an outage's customers (rows with a priority, migration 006).
 */
export const LANES = ['staff', 'webhook', 'customer'] as const;
export type LaneName = (typeof LANES)[number];

export const laneOf = (row: Pick<ClaimedRow, 'channel' | 'priority'>): LaneName =>
  row.priority !== null ? 'customer' : row.channel === 'webhook' ? 'webhook' : 'staff';

// Literal predicates (not parameters), so PostgreSQL uses the lane's partial index (migrations 004, 006).
const LANE_PREDICATE: Record<LaneName, string> = {
  staff: `channel <> 'webhook' AND priority IS NULL`,
  webhook: `channel = 'webhook'`,
  customer: `priority IS NOT NULL`,
};

// The customer lane takes the most urgent due messages first (aquaculture, cold storage, …).
const LANE_ORDER: Record<LaneName, string> = {
  staff: 'next_attempt_at',
  webhook: 'next_attempt_at',
  customer: 'priority, next_attempt_at',
};

export interface ClaimedRow {
  id: string;
  event_id: string;
  work_order_id: string | null;
  channel: ChannelName;
  recipient: string;
  subscription_id: string | null;
  payload: DeliveryPayload;
  attempts: number;
  /** The trace the send continues (the causing event's), if any. */
  traceparent: string | null;
  /** A customer message's lane priority (0 first); null for staff messages and webhooks. */
  priority: number | null;
  /** next_attempt_at before the claim: a row handed back (release) keeps its place. */
  due_at: Date;
  /** The subscription (webhooks), null when it was deleted. */
  sub_url: string | null;
  sub_secret: string | null;
  sub_status: 'active' | 'disabled' | null;
  sub_disabled_reason: string | null;
  sub_pii_read: boolean | null;
  sub_failing_since: Date | null;
  /** Wall-clock ms when this worker's lease on the row ends (set after the claim, not a column). */
  leaseEndsAt: number;
}

const T = `${SCHEMA}.deliveries`;

/**
 * Claims up to `limit` due rows of `lane` (skipping the subscriptions in `exclude`, which are at
 * their in-flight cap here) and joins their subscription, in one statement. The claim commits
 * without waiting for the WAL flush (`synchronous_commit` off for this statement's transaction
 * only): a claim lost in a database crash merely makes the row due again at its old time — the
 * same as a claim whose worker died — while the results are written with the normal durable commit.
 */
export async function claimDue(pool: Pool, lane: LaneName, limit: number, now: Date, leaseMs: number, exclude: readonly string[]): Promise<ClaimedRow[]> {
  const claimedAt = Date.now();
  const { rows } = await pool.query<Omit<ClaimedRow, 'leaseEndsAt'>>(
    `WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true) AS setting),
     due AS (
       SELECT id, next_attempt_at AS due_at FROM ${T}
        WHERE status = 'pending' AND ${LANE_PREDICATE[lane]} AND next_attempt_at <= $1 AND (SELECT setting FROM relaxed) = 'off'
          AND (subscription_id IS NULL OR subscription_id <> ALL($4::uuid[]))
        ORDER BY ${LANE_ORDER[lane]}
        LIMIT $2
        FOR UPDATE SKIP LOCKED),
     claimed AS (
       UPDATE ${T} d SET next_attempt_at = $3
         FROM due WHERE d.id = due.id
       RETURNING d.id, d.event_id, d.work_order_id, d.channel, d.recipient, d.subscription_id, d.payload, d.attempts, d.traceparent, d.priority, due.due_at)
     SELECT c.*, s.url AS sub_url, s.secret AS sub_secret, s.status AS sub_status, s.disabled_reason AS sub_disabled_reason,
            s.pii_read AS sub_pii_read, s.failing_since AS sub_failing_since
       FROM claimed c LEFT JOIN ${SCHEMA}.subscriptions s ON s.id = c.subscription_id`,
    [now, limit, new Date(now.getTime() + leaseMs), exclude],
  );
  const leaseEndsAt = claimedAt + leaseMs;
  return rows.map((row) => ({ ...row, leaseEndsAt }));
}

/** Hands claimed rows back unsent, due when they were (their subscription was at its cap here). */
export async function releaseClaims(pool: Pool, rows: readonly ClaimedRow[]): Promise<void> {
  if (rows.length === 0) return;
  await pool.query(
    `UPDATE ${T} d SET next_attempt_at = r.due_at
       FROM unnest($1::uuid[], $2::timestamptz[], $3::int[]) AS r(id, due_at, attempts)
      WHERE d.id = r.id AND d.attempts = r.attempts AND d.status = 'pending'`,
    [rows.map((r) => r.id), rows.map((r) => r.due_at), rows.map((r) => r.attempts)],
  );
}
