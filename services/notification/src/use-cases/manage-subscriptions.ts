import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, eq, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool } from 'pg';
import type { CreateSubscriptionBody, SubscriptionEventName } from '@griddispatch/contracts';
import { withTransaction } from '@griddispatch/db';
import { SCHEMA, subscriptions, type SubscriptionRow } from '../schema.ts';

// Integrators manage their own webhooks; a key with `admin` sees and manages everyone's.

/** Who is asking: the API key's name, and whether it may see every integrator's subscriptions. */
export interface Caller {
  keyName: string;
  admin: boolean;
}

export interface SubscriptionView {
  id: string;
  url: string;
  events: SubscriptionEventName[];
  gridIds: string[] | null;
  status: 'active' | 'disabled';
  disabledReason: string | null;
  createdAt: string;
}

/** `whsec_` + 24 random bytes in base64, the Standard Webhooks secret format. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export async function createSubscription(pool: Pool, body: CreateSubscriptionBody, caller: Caller, now: Date): Promise<{ id: string; secret: string }> {
  const id = randomUUID();
  const secret = generateWebhookSecret();
  await drizzle(pool)
    .insert(subscriptions)
    .values({
      id,
      url: body.url,
      events: [...new Set(body.events)],
      gridIds: body.gridIds && body.gridIds.length > 0 ? [...new Set(body.gridIds)] : null,
      secret,
      status: 'active',
      createdBy: caller.keyName,
      createdAt: now,
      updatedAt: now,
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
