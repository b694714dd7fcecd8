import type { PoolClient } from 'pg';
import type { Contact } from '@griddispatch/contracts';
import { normalizeCnMobile } from '../channels/phone.ts';
import { SCHEMA } from '../schema.ts';
import type { DeliveryDraft } from '../use-cases/record-deliveries.ts';
import type { ReplyCatalog } from '../templates/replies.ts';
import { newAckCode } from './parse-reply.ts';

// Acknowledge by reply (docs/architecture.md#callbacks-and-replies): the code each addressee of a
// dispatch finds in their SMS, bound to the work order and their phone. Live codes are unique
// (ack_codes_live_idx); a code is live until used, until the work order leaves `assigned`, or
// until NOTIFY_ACK_CODE_TTL.

export interface AckCodeRow {
  work_order_id: string;
  phone: string;
  staff_id: string;
  code: string;
  status: 'live' | 'used' | 'expired';
  expires_at: Date;
}

const MAX_TRIES = 20;

/**
 * The live code of (work order, phone), issuing one if there is none (a redelivered dispatch gets
 * the same code back). A code drawn that is live elsewhere is drawn again.
 */
async function codeFor(
  client: PoolClient,
  workOrderId: string,
  phone: string,
  staffId: string,
  now: Date,
  ttlMs: number,
  random?: () => number,
): Promise<string> {
  const { rows } = await client.query<{ code: string }>(
    `SELECT code FROM ${SCHEMA}.ack_codes WHERE work_order_id = $1 AND phone = $2 AND status = 'live' AND expires_at > $3`,
    [workOrderId, phone, now],
  );
  if (rows[0]) return rows[0].code;
  // Codes past their time give their letters back before a new one is drawn.
  await client.query(`UPDATE ${SCHEMA}.ack_codes SET status = 'expired', closed_at = $1 WHERE status = 'live' AND expires_at <= $1`, [now]);
  for (let i = 0; i < MAX_TRIES; i++) {
    const code = newAckCode(random);
    const taken = await client.query(`SELECT 1 FROM ${SCHEMA}.ack_codes WHERE code = $1 AND status = 'live'`, [code]);
    if (taken.rowCount) continue;
    await client.query(
      `INSERT INTO ${SCHEMA}.ack_codes (work_order_id, phone, staff_id, code, status, issued_at, expires_at)
       VALUES ($1, $2, $3, $4, 'live', $5, $6)
       ON CONFLICT (work_order_id, phone) DO UPDATE SET staff_id = EXCLUDED.staff_id, code = EXCLUDED.code, status = 'live',
         issued_at = EXCLUDED.issued_at, expires_at = EXCLUDED.expires_at, closed_at = NULL`,
      [workOrderId, phone, staffId, code, now, new Date(now.getTime() + ttlMs)],
    );
    return code;
  }
  throw new Error(`no free acknowledgement code after ${MAX_TRIES} draws: too many live codes`);
}

/**
 * Gives each staff SMS of a work order's notice its addressee's code: the code line appended to
 * the text, and `code` among the template parameters. Drafts to numbers of no contact (the
 * operator desk) and other channels are left as they are.
 */
export async function withAckCodes(
  client: PoolClient,
  workOrderId: string,
  people: readonly Contact[],
  drafts: DeliveryDraft[],
  replies: ReplyCatalog,
  now: Date,
  ttlMs: number,
  random?: () => number,
): Promise<DeliveryDraft[]> {
  const staffByPhone = new Map<string, string>();
  for (const p of people) {
    const phone = p.phone ? normalizeCnMobile(p.phone) : null;
    if (phone) staffByPhone.set(phone, p.staffId);
  }
  const out: DeliveryDraft[] = [];
  for (const d of drafts) {
    const staffId = d.payload.channel === 'sms' ? staffByPhone.get(d.recipient) : undefined;
    if (d.payload.channel !== 'sms' || staffId === undefined) {
      out.push(d);
      continue;
    }
    const code = await codeFor(client, workOrderId, d.recipient, staffId, now, ttlMs, random);
    out.push({ ...d, payload: { ...d.payload, text: `${d.payload.text}${replies.ackCodeLine(code)}`, params: { ...d.payload.params, code } } });
  }
  return out;
}

/** The work order left `assigned` (or was handed to someone else): its live codes stop working. */
export async function expireAckCodes(client: PoolClient, workOrderId: string, now: Date): Promise<number> {
  const { rowCount } = await client.query(`UPDATE ${SCHEMA}.ack_codes SET status = 'expired', closed_at = $2 WHERE work_order_id = $1 AND status = 'live'`, [
    workOrderId,
    now,
  ]);
  return rowCount ?? 0;
}

/** The latest code issued with these letters (live ones are unique; older ones may share them), locked. */
export async function findAckCode(client: PoolClient, code: string): Promise<AckCodeRow | null> {
  const { rows } = await client.query<AckCodeRow>(
    `SELECT work_order_id, phone, staff_id, code, status, expires_at FROM ${SCHEMA}.ack_codes
      WHERE code = $1 ORDER BY (status = 'live') DESC, issued_at DESC LIMIT 1 FOR UPDATE`,
    [code],
  );
  return rows[0] ?? null;
}

export async function useAckCode(client: PoolClient, row: Pick<AckCodeRow, 'work_order_id' | 'phone'>, now: Date): Promise<void> {
  await client.query(`UPDATE ${SCHEMA}.ack_codes SET status = 'used', closed_at = $3 WHERE work_order_id = $1 AND phone = $2`, [
    row.work_order_id,
    row.phone,
    now,
  ]);
}
