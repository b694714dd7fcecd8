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

interface Wanted {
  workOrderId: string;
  phone: string;
  staffId: string;
  now: Date;
  /** The drafts (of this batch, made here) whose text and parameters get the code. */
  drafts: DeliveryDraft[];
}

/**
 * The codes of a batch's staff SMS, issued together: `add` returns each notice's drafts at once,
 * `issue` writes the codes into them in at most three statements for the whole batch — the live
 * codes of the (work order, phone) pairs asked for (a redelivered dispatch gets the same code
 * back) and which of the pairs' draws are live elsewhere; only if some pair has no code: the
 * expiry of codes past their time (they give their letters back), then one insert of fresh codes,
 * each pair's the first of its draws taken neither elsewhere nor by an earlier pair.
 * A pair asked for twice in a batch gets one code, the first asker's staff id, as when each was
 * issued in turn. Call `issue` before the drafts are stored, and before anything in the same
 * transaction expires or reads these codes.
 */
export class AckCodeBatch {
  private readonly wanted = new Map<string, Wanted>();

  constructor(
    private readonly replies: ReplyCatalog,
    private readonly ttlMs: number,
    private readonly random?: () => number,
  ) {}

  /**
   * Gives each staff SMS of a work order's notice its addressee's code (filled in by `issue`): the
   * code line appended to the text, and `code` among the template parameters. Drafts to numbers
   * of no contact (the operator desk) and other channels are left as they are.
   */
  add(workOrderId: string, people: readonly Contact[], drafts: DeliveryDraft[], now: Date): DeliveryDraft[] {
    const staffByPhone = new Map<string, string>();
    for (const p of people) {
      const phone = p.phone ? normalizeCnMobile(p.phone) : null;
      if (phone) staffByPhone.set(phone, p.staffId);
    }
    return drafts.map((d) => {
      const staffId = d.payload.channel === 'sms' ? staffByPhone.get(d.recipient) : undefined;
      if (staffId === undefined) return d;
      const key = keyOf(workOrderId, d.recipient);
      let w = this.wanted.get(key);
      if (!w) {
        w = { workOrderId, phone: d.recipient, staffId, now, drafts: [] };
        this.wanted.set(key, w);
      }
      const copy: DeliveryDraft = { ...d };
      w.drafts.push(copy);
      return copy;
    });
  }

  async issue(client: PoolClient): Promise<void> {
    const wanted = [...this.wanted.values()];
    this.wanted.clear();
    if (wanted.length === 0) return;
    // One instant for the batch's expiry: codes live past it give their letters back.
    const now = new Date(wanted.reduce((t, w) => Math.max(t, w.now.getTime()), 0));
    // Each pair's draws, made before we know which pairs need them, so that one statement finds
    // both the pairs' live codes and which of the draws are live elsewhere.
    const draws = wanted.map(() => Array.from({ length: MAX_TRIES }, () => newAckCode(this.random)));
    const { rows } = await client.query<{ n: number | null; code: string }>(
      `SELECT w.n::int AS n, a.code FROM unnest($1::text[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS w(work_order_id, phone, now, n)
         JOIN ${SCHEMA}.ack_codes a ON a.work_order_id = w.work_order_id AND a.phone = w.phone
        WHERE a.status = 'live' AND a.expires_at > w.now
       UNION ALL
       SELECT NULL, code FROM ${SCHEMA}.ack_codes WHERE code = ANY($4::text[]) AND status = 'live' AND expires_at > $5`,
      [wanted.map((w) => w.workOrderId), wanted.map((w) => w.phone), wanted.map((w) => w.now), [...new Set(draws.flat())], now],
    );
    const codes = new Map<Wanted, string>();
    const taken = new Set<string>();
    for (const r of rows) {
      // A pair's own live code is taken for the others too.
      taken.add(r.code);
      if (r.n !== null) codes.set(wanted[r.n - 1]!, r.code);
    }
    const fresh = wanted.flatMap((w, i) => (codes.has(w) ? [] : [{ w, draws: draws[i]! }]));
    if (fresh.length > 0) {
      // Codes past their time give their letters back before new ones are drawn.
      await client.query(`UPDATE ${SCHEMA}.ack_codes SET status = 'expired', closed_at = $1 WHERE status = 'live' AND expires_at <= $1`, [now]);
      // In turn, as one by one: the first draw of each pair that is live neither elsewhere nor for an earlier pair.
      for (const { w, draws: mine } of fresh) {
        const code = mine.find((c) => !taken.has(c));
        if (code === undefined) throw new Error(`no free acknowledgement code after ${MAX_TRIES} draws: too many live codes`);
        taken.add(code);
        codes.set(w, code);
      }
      await client.query(
        `INSERT INTO ${SCHEMA}.ack_codes (work_order_id, phone, staff_id, code, status, issued_at, expires_at)
         SELECT work_order_id, phone, staff_id, code, 'live', issued_at, expires_at
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
                  AS w(work_order_id, phone, staff_id, code, issued_at, expires_at)
         ON CONFLICT (work_order_id, phone) DO UPDATE SET staff_id = EXCLUDED.staff_id, code = EXCLUDED.code, status = 'live',
           issued_at = EXCLUDED.issued_at, expires_at = EXCLUDED.expires_at, closed_at = NULL`,
        [
          fresh.map(({ w }) => w.workOrderId),
          fresh.map(({ w }) => w.phone),
          fresh.map(({ w }) => w.staffId),
          fresh.map(({ w }) => codes.get(w)!),
          fresh.map(({ w }) => w.now),
          fresh.map(({ w }) => new Date(w.now.getTime() + this.ttlMs)),
        ],
      );
    }
    for (const w of wanted) {
      const code = codes.get(w)!;
      for (const d of w.drafts) {
        if (d.payload.channel !== 'sms') continue;
        d.payload = { ...d.payload, text: `${d.payload.text}${this.replies.ackCodeLine(code)}`, params: { ...d.payload.params, code } };
      }
    }
  }
}

const keyOf = (workOrderId: string, phone: string): string => `${workOrderId}\u0000${phone}`;

/**
 * Gives each staff SMS of a work order's notice its addressee's code at once (AckCodeBatch for
 * one notice): the code line appended to the text, and `code` among the template parameters.
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
  const batch = new AckCodeBatch(replies, ttlMs, random);
  const out = batch.add(workOrderId, people, drafts, now);
  await batch.issue(client);
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
