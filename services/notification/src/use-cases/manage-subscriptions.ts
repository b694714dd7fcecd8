import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, eq, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool } from 'pg';
import type { CreateSubscriptionBody, SubscriptionEventName } from '@griddispatch/contracts';
import { withTransaction } from '@griddispatch/db';
import { RefusedAddressError } from '../channels/address-policy.ts';
import { checkTarget, UnresolvableTargetError, type TargetPolicy } from '../channels/webhook-target.ts';
import { SCHEMA, subscriptions, type SubscriptionRow } from '../schema.ts';
import { subscriptionGrids } from './key-grids.ts';

// Integrators manage their own webhooks; a key with `admin` sees and manages everyone's.

/** Who is asking: the API key's name, whether it may see every integrator's subscriptions, and personal data. */
export interface Caller {
  keyName: string;
  admin: boolean;
  /** The key has `pii:read` (or admin): its subscriptions get events unredacted. */
  piiRead: boolean;
  /** The grids the key allows (its subscriptions are limited to them); null: every grid. */
  grids: readonly string[] | null;
}

export interface CreateLimits {
  /** Subscriptions one key may hold (NOTIFY_MAX_SUBSCRIPTIONS_PER_KEY). */
  maxPerKey: number;
  /** Checks the URL's host; absent: not checked (tests that subscribe directly). */
  target?: TargetPolicy;
}

/** The URL's host is, or resolves to, an address webhooks may not reach. */
export class RefusedTargetError extends Error {
  override name = 'RefusedTargetError';
}

/** The key already holds its maximum of subscriptions. */
export class SubscriptionLimitError extends Error {
  override name = 'SubscriptionLimitError';
}

export interface SubscriptionView {
  id: string;
  url: string;
  events: SubscriptionEventName[];
  gridIds: string[] | null;
  status: 'active' | 'disabled';
  disabledReason: string | null;
  /** Whether deliveries carry personal data (the key had pii:read when it subscribed). */
  personalData: boolean;
  createdAt: string;
}

/** `whsec_` + 24 random bytes in base64, the Standard Webhooks secret format. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/**
 * Stores a subscription after checking its target (issue 17.1), its grids against the key's
 * (key-grids.ts) and the key's count. A host that
 * does not resolve (yet) is accepted: every send checks again, at connect time, and that check
 * is the one that counts. The count is taken under a per-key advisory lock, so two concurrent
 * requests cannot both take the last place.
 */
export async function createSubscription(
  pool: Pool,
  body: CreateSubscriptionBody,
  caller: Caller,
  now: Date,
  limits: CreateLimits,
): Promise<{ id: string; secret: string }> {
  if (limits.target) {
    try {
      await checkTarget(body.url, limits.target);
    } catch (err) {
      // Not the address itself: registration must not become a way to read our internal DNS.
      if (err instanceof RefusedAddressError)
        throw new RefusedTargetError(`${err.host} is or resolves to a ${err.cls.replace('_', '-')} address; webhooks may reach public addresses only`);
      if (!(err instanceof UnresolvableTargetError)) throw err;
    }
  }
  const id = randomUUID();
  const secret = generateWebhookSecret();
  await withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`notification.subscriptions:${caller.keyName}`]);
    const gridIds = await subscriptionGrids(client, caller.keyName, body.gridIds, caller.grids);
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${SCHEMA}.subscriptions WHERE created_by = $1`, [caller.keyName]);
    if ((rows[0]?.n ?? 0) >= limits.maxPerKey) {
      throw new SubscriptionLimitError(
        `API key "${caller.keyName}" already has ${limits.maxPerKey} subscriptions (the most one key may have); delete one first`,
      );
    }
    await drizzle(client)
      .insert(subscriptions)
      .values({
        id,
        url: body.url,
        events: [...new Set(body.events)],
        gridIds,
        secret,
        status: 'active',
        createdBy: caller.keyName,
        createdAt: now,
        updatedAt: now,
        piiRead: caller.piiRead,
      });
  });
  return { id, secret };
}

function visibleTo(caller: Caller): SQL | undefined {
  return caller.admin ? undefined : eq(subscriptions.createdBy, caller.keyName);
}

function view(row: SubscriptionRow): SubscriptionView {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    gridIds: row.gridIds,
    status: row.status,
    disabledReason: row.disabledReason,
    personalData: row.piiRead,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Without secrets: they were shown once, at creation. */
export async function listSubscriptions(pool: Pool, caller: Caller): Promise<SubscriptionView[]> {
  const rows = await drizzle(pool).select().from(subscriptions).where(visibleTo(caller)).orderBy(asc(subscriptions.createdAt), asc(subscriptions.id));
  return rows.map(view);
}

/**
 * Deletes the subscription; its deliveries not yet sent are marked failed (their history stays
 * for GET /v1/deliveries). False when the caller has no such subscription.
 */
export async function deleteSubscription(pool: Pool, id: string, caller: Caller, now: Date): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const deleted = await drizzle(client)
      .delete(subscriptions)
      .where(and(eq(subscriptions.id, id), visibleTo(caller)))
      .returning({ id: subscriptions.id });
    if (deleted.length === 0) return false;
    await client.query(
      `UPDATE ${SCHEMA}.deliveries SET status = 'failed', last_error = 'subscription deleted', next_attempt_at = NULL, updated_at = $2
        WHERE subscription_id = $1 AND status = 'pending'`,
      [id, now],
    );
    return true;
  });
}
