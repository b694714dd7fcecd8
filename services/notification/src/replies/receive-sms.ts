import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { buildEvent, EventTypeName, Topics, type InboundSms, type InboundSmsOutcome, type ReplyReceivedV1 } from '@griddispatch/contracts';
import { enqueueOutbox, eventRecord, withTransaction } from '@griddispatch/db';
import { currentTraceparent, type Logger } from '@griddispatch/observability';
import { normalizeCnMobile } from '../channels/phone.ts';
import type { NotificationConfig } from '../config.ts';
import { SCHEMA } from '../schema.ts';
import type { ReplyCatalog, ReplyErrorReason } from '../templates/replies.ts';
import { smsDrafts } from '../use-cases/draft-deliveries.ts';
import { recordDeliveries } from '../use-cases/record-deliveries.ts';
import { findAckCode, useAckCode } from './ack-codes.ts';
import { parseReply } from './parse-reply.ts';

// SMS replies (docs/architecture.md#callbacks-and-replies): what the SMS gateway posts to
// POST /v1/inbound/sms — and, after the vendors' adapters parse their own uplink formats, what
// they hand over — as {from, text, at}. Each message is matched here (notification issued the
// codes and sent the asks) and, when it answers something, told to intake on replies.received
// in the same transaction as its record, so an answered 200 means it is durable.

export interface ReceiveSmsDeps {
  pool: Pool;
  logger: Logger;
  config: Pick<NotificationConfig, 'replies'>;
  replies: ReplyCatalog;
  now: () => Date;
  /** Wakes the delivery worker when an answer SMS was queued. */
  wake: () => void;
  /** Told of each message's outcome, after its commit (metrics). */
  onOutcome?: (outcome: InboundSmsOutcome) => void;
}

/** A message's clock may run this far ahead of ours and still answer an ask made since. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** The indexes of messages dated further ahead than the gateway's clock may run: callers refuse them before anything is stored. */
export function futureMessages(messages: readonly InboundSms[], now: Date): number[] {
  const limit = now.getTime() + CLOCK_SKEW_MS;
  return messages.flatMap((m, i) => (Date.parse(m.at) > limit ? [i] : []));
}

/** (from, at, text) identify a message: a gateway posting it again gets its first outcome. */
function messageId(m: InboundSms): string {
  return createHash('sha256')
    .update(`${m.from}\n${new Date(m.at).toISOString()}\n${m.text}`)
    .digest('hex');
}

function replyRecord(data: ReplyReceivedV1, now: Date) {
  const traceparent = currentTraceparent();
  const subject = data.kind === 'acknowledge' ? data.workOrderId : data.requestId;
  const event = buildEvent({ type: EventTypeName.replyReceived, source: 'notification', subject, time: now, data, traceparent });
  return eventRecord(Topics.repliesReceived, subject, event);
}

type Decision = { outcome: InboundSmsOutcome; error?: { reason: ReplyErrorReason; code: string | null } };

async function decide(deps: ReceiveSmsDeps, client: PoolClient, m: InboundSms, from: string, now: Date): Promise<Decision> {
  const at = new Date(m.at);
  const parsed = parseReply(m.text);
  if (parsed.kind === 'acknowledge') {
    const code = await findAckCode(client, parsed.code);
    const refuse = (reason: ReplyErrorReason): Decision => ({ outcome: { outcome: 'refused', reason, replied: true }, error: { reason, code: parsed.code } });
    if (!code) return refuse('unknown_code');
    if (code.phone !== from) return refuse('not_addressee');
    if (code.status !== 'live' || code.expires_at.getTime() <= Math.min(at.getTime(), now.getTime())) return refuse('stale_code');
    await useAckCode(client, code, now);
    await enqueueOutbox(client, SCHEMA, [
      replyRecord({ kind: 'acknowledge', workOrderId: code.work_order_id, by: code.staff_id, code: code.code, at: at.toISOString() }, now),
    ]);
    return { outcome: { outcome: 'acknowledged', id: code.work_order_id, replied: false } };
  }
  // The latest ask to this number that the message can answer: made before it was sent, within the window.
  const { rows } = await client.query<{ request_id: string }>(
    `SELECT request_id FROM ${SCHEMA}.callback_asks WHERE phone = $1 AND asked_at <= $2 AND asked_at > $3 ORDER BY asked_at DESC LIMIT 1`,
    [from, new Date(at.getTime() + CLOCK_SKEW_MS), new Date(at.getTime() - deps.config.replies.callbackWindowMs)],
  );
  const ask = rows[0];
  // A number nobody asked gets no answer: it is refused, and not texted back.
  if (!ask) return { outcome: { outcome: 'refused', reason: 'not_asked', replied: false } };
  if (parsed.kind === 'unknown')
    return { outcome: { outcome: 'refused', reason: 'not_understood', replied: true }, error: { reason: 'not_understood', code: null } };
  await enqueueOutbox(client, SCHEMA, [
    replyRecord({ kind: 'callback', requestId: ask.request_id, reply: parsed.reply, satisfaction: parsed.satisfaction, at: at.toISOString() }, now),
  ]);
  return { outcome: { outcome: 'callback_answered', id: ask.request_id, replied: false } };
}

async function receiveOne(deps: ReceiveSmsDeps, m: InboundSms): Promise<InboundSmsOutcome> {
  const from = normalizeCnMobile(m.from);
  if (!from) return { outcome: 'refused', reason: 'bad_number', replied: false };
  const id = messageId({ ...m, from });
  const now = deps.now();
  return withTransaction(deps.pool, async (client) => {
    // The claim first: a concurrent post of the same message waits here, then finds it taken.
    const claim = await client.query(`INSERT INTO ${SCHEMA}.inbound_sms (id, received_at, outcome) VALUES ($1, $2, '{}') ON CONFLICT (id) DO NOTHING`, [
      id,
      now,
    ]);
    if (!claim.rowCount) {
      const { rows } = await client.query<{ outcome: InboundSmsOutcome }>(`SELECT outcome FROM ${SCHEMA}.inbound_sms WHERE id = $1`, [id]);
      const first = rows[0]?.outcome;
      return { outcome: 'duplicate', ...(first?.id ? { id: first.id } : {}), replied: false };
    }
    const { outcome, error } = await decide(deps, client, m, from, now);
    if (error) {
      const rendered = deps.replies.replyError(error.reason, error.code);
      await recordDeliveries(client, { id: `inbound:${id}`, type: 'reply.error', subject: null }, smsDrafts([from], rendered, 'reply.error'), now);
    }
    await client.query(`UPDATE ${SCHEMA}.inbound_sms SET outcome = $2 WHERE id = $1`, [id, JSON.stringify(outcome)]);
    return outcome;
  });
}

/** Each message in its own transaction, in the order given; the outcomes in the same order. */
export async function receiveSms(deps: ReceiveSmsDeps, messages: readonly InboundSms[]): Promise<InboundSmsOutcome[]> {
  const results: InboundSmsOutcome[] = [];
  for (const m of messages) {
    const result = await receiveOne(deps, m);
    deps.logger.info({ outcome: result.outcome, reason: result.reason, id: result.id }, 'inbound SMS');
    deps.onOutcome?.(result);
    results.push(result);
  }
  if (results.some((r) => r.replied)) deps.wake();
  return results;
}
