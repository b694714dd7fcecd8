import { and, asc, desc, eq, inArray, lt, or, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool } from 'pg';
import { isUuid, type CustomerNoticeKind } from '@griddispatch/contracts';
import { displayRecipient } from '../channels/recipient.ts';
import { webhookErrorWord } from '../channels/webhook.ts';
import type { ChannelName, SendOutcome } from '../channels/types.ts';
import { deliveries, deliveryAttempts, subscriptions, type DeliveryRow, type DeliveryStatus } from '../schema.ts';
import type { Caller } from './manage-subscriptions.ts';

// GET /v1/deliveries: so an integrator can see why a webhook failed — every attempt with its
// status code, error and latency. Integrators see their own subscriptions' deliveries; admin
// keys see all (SMS and WeCom included, phone numbers and robot keys masked).

export interface DeliveryQuery {
  eventId?: string;
  /** Customer messages of one incident or planned outage. */
  subject?: string;
  /** Customer messages of one kind (`outage.detected`, …). */
  kind?: CustomerNoticeKind;
  subscriptionId?: string;
  status?: DeliveryStatus;
  cursor?: string;
  limit: number;
}

export interface AttemptView {
  attempt: number;
  at: string;
  outcome: SendOutcome['kind'];
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  workOrderId: string | null;
  channel: ChannelName;
  recipient: string;
  subscriptionId: string | null;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  latencyMs: number | null;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
  /** A customer message's incident or planned outage, stage, kind and lane priority (0 first); null otherwise. */
  notice: { subject: string; stage: string; kind: CustomerNoticeKind; priority: number } | null;
  history: AttemptView[];
}

export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

function encodeCursor(row: DeliveryRow): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 2) throw new Error('bad cursor');
    const [at, id] = parsed as unknown[];
    const date = new Date(typeof at === 'string' ? at : Number.NaN);
    // The id is compared with a uuid column: anything else would fail in PostgreSQL (a 500).
    if (typeof id !== 'string' || !isUuid(id) || Number.isNaN(date.getTime())) throw new Error('bad cursor');
    return { at: date, id };
  } catch {
    throw new InvalidCursorError('cursor is not one this API returned');
  }
}

export async function listDeliveries(pool: Pool, query: DeliveryQuery, caller: Caller): Promise<{ items: DeliveryView[]; nextCursor: string | null }> {
  const db = drizzle(pool);
  const conditions: (SQL | undefined)[] = [];
  if (query.eventId) conditions.push(eq(deliveries.eventId, query.eventId));
  if (query.subject) conditions.push(eq(deliveries.noticeSubject, query.subject));
  if (query.kind) conditions.push(eq(deliveries.noticeKind, query.kind));
  if (query.subscriptionId) conditions.push(eq(deliveries.subscriptionId, query.subscriptionId));
  if (query.status) conditions.push(eq(deliveries.status, query.status));
  if (!caller.admin) {
    const own = db.select({ id: subscriptions.id }).from(subscriptions).where(eq(subscriptions.createdBy, caller.keyName));
    conditions.push(inArray(deliveries.subscriptionId, own));
  }
  if (query.cursor) {
    const c = decodeCursor(query.cursor);
    conditions.push(or(lt(deliveries.createdAt, c.at), and(eq(deliveries.createdAt, c.at), lt(deliveries.id, c.id))));
  }
  const rows = await db
    .select()
    .from(deliveries)
    .where(and(...conditions))
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const attempts =
    page.length === 0
      ? []
      : await db
          .select()
          .from(deliveryAttempts)
          .where(
            inArray(
              deliveryAttempts.deliveryId,
              page.map((r) => r.id),
            ),
          )
          .orderBy(asc(deliveryAttempts.deliveryId), asc(deliveryAttempts.attempt));
  const history = new Map<string, AttemptView[]>();
  const webhookRows = new Set(page.filter((r) => r.channel === 'webhook').map((r) => r.id));
  for (const a of attempts) {
    const list = history.get(a.deliveryId) ?? [];
    const error = webhookRows.has(a.deliveryId) ? webhookErrorWord(a.error) : a.error;
    list.push({ attempt: a.attempt, at: a.startedAt.toISOString(), outcome: a.outcome, statusCode: a.statusCode, error, latencyMs: a.latencyMs });
    history.set(a.deliveryId, list);
  }
  return {
    items: page.map((r) => ({
      id: r.id,
      eventId: r.eventId,
      eventType: r.eventType,
      workOrderId: r.workOrderId,
      channel: r.channel,
      recipient: displayRecipient(r.channel, r.recipient),
      subscriptionId: r.subscriptionId,
      status: r.status,
      attempts: r.attempts,
      lastStatusCode: r.lastStatusCode,
      lastError: r.channel === 'webhook' ? webhookErrorWord(r.lastError) : r.lastError,
      latencyMs: r.latencyMs,
      nextAttemptAt: r.nextAttemptAt?.toISOString() ?? null,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
      deliveredAt: r.deliveredAt?.toISOString() ?? null,
      notice:
        r.noticeSubject !== null && r.noticeStage !== null && r.noticeKind !== null
          ? { subject: r.noticeSubject, stage: r.noticeStage, kind: r.noticeKind, priority: r.priority ?? 0 }
          : null,
      history: history.get(r.id) ?? [],
    })),
    nextCursor: rows.length > query.limit && page.length > 0 ? encodeCursor(page[page.length - 1]!) : null,
  };
}
