import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { CloudEvent, CustomerNoticeKind, CustomerNoticeV1 } from '@griddispatch/contracts';
import { normalizeCnMobile } from '../channels/phone.ts';
import type { DeliveryPayload } from '../channels/types.ts';
import { WAKE_CHANNEL } from '../delivery/wakeup.ts';
import { SCHEMA } from '../schema.ts';
import type { CustomerContext, CustomerMessage } from '../templates/customer.ts';

// A customers.notices record → one pending SMS delivery per account, stored set-based in one
// statement. (notice_subject, notice_stage, account_no) is unique (migration 006): an account
// hears of one stage of one incident once, whatever is redelivered, replayed or sent by another
// replica. `priority` orders the customer lane.

export type RenderCustomer = (kind: CustomerNoticeKind, ctx: CustomerContext) => CustomerMessage;

/** The customer lane's order: 0 first. Aerators and freezers die first. */
export function priorityOf(classes: readonly string[]): number {
  if (classes.includes('aquaculture') || classes.includes('cold_storage')) return 0;
  if (classes.includes('important') || classes.includes('vulnerable')) return 1;
  if (classes.includes('commercial')) return 2;
  return 3;
}

export interface RecordedNotice {
  inserted: number;
  /** Pending reminders dropped because the outage moved or was cancelled. */
  dropped: number;
}

export async function recordCustomerNotice(
  client: PoolClient,
  event: CloudEvent<'cn.griddispatch.customer.notice.v1'>,
  render: RenderCustomer,
  now: Date,
): Promise<RecordedNotice> {
  const notice = event.data;
  const dropped = notice.supersedes ? await dropSuperseded(client, notice, now) : 0;
  if (notice.recipients.length === 0) return { inserted: 0, dropped };
  const dueAt = notice.sendAt ? new Date(notice.sendAt) : now;
  const rows = notice.recipients.map((r) => {
    const message = render(notice.kind, { notice, districtCode: r.districtCode, accountNo: r.accountNo });
    const payload: DeliveryPayload = { channel: 'sms', templateId: notice.kind, params: message.params, text: message.text };
    // An unusable number is still recorded: the delivery fails for good and shows why.
    return {
      id: randomUUID(),
      recipient: normalizeCnMobile(r.phone) ?? r.phone.trim(),
      account: r.accountNo,
      priority: priorityOf(r.classes),
      payload: JSON.stringify(payload),
    };
  });
  // ON CONFLICT without a target: the notice key, and (event, channel, recipient) when two
  // accounts of one record share a phone — that phone hears of the stage once.
  const result = await client.query<{ inserted: number }>(
    `WITH inserted AS (
       INSERT INTO ${SCHEMA}.deliveries
         (id, event_id, event_type, work_order_id, channel, recipient, subscription_id, payload, status, attempts, next_attempt_at,
          created_at, updated_at, notice_subject, notice_stage, notice_kind, account_no, priority)
       SELECT r.id, $1, $2, NULL, 'sms', r.recipient, NULL, r.payload, 'pending', 0, $3, $4, $4, $5, $6, $7, r.account, r.priority
         FROM unnest($8::uuid[], $9::text[], $10::text[], $11::smallint[], $12::jsonb[]) AS r(id, recipient, account, priority, payload)
       ON CONFLICT DO NOTHING
       RETURNING 1)
     SELECT count(*)::int AS inserted, CASE WHEN count(*) > 0 THEN pg_notify($13, 'customer') END AS woke FROM inserted`,
    [
      event.id,
      event.type,
      dueAt,
      now,
      notice.subjectId,
      notice.stage,
      notice.kind,
      rows.map((r) => r.id),
      rows.map((r) => r.recipient),
      rows.map((r) => r.account),
      rows.map((r) => r.priority),
      rows.map((r) => r.payload),
      WAKE_CHANNEL,
    ],
  );
  return { inserted: result.rows[0]?.inserted ?? 0, dropped };
}

/** A moved or cancelled outage: its reminders not sent yet are dropped (failed, with the reason). */
async function dropSuperseded(client: PoolClient, notice: CustomerNoticeV1, now: Date): Promise<number> {
  const { rowCount } = await client.query(
    `UPDATE ${SCHEMA}.deliveries SET status = 'failed', next_attempt_at = NULL, updated_at = $4,
            last_error = 'superseded: ' || $3
      WHERE notice_subject = $1 AND starts_with(notice_stage, $2) AND notice_stage <> $3 AND status = 'pending'`,
    [notice.subjectId, notice.supersedes, notice.stage, now],
  );
  return rowCount ?? 0;
}
