import type { PoolClient } from 'pg';
import { EventTypes, Topics, type CloudEvent } from '@griddispatch/contracts';
import { HttpError } from '@griddispatch/http';
import type { Logger } from '@griddispatch/observability';
import type { IntakeContext } from '../context.ts';
import { answerCallback } from '../use-cases/callbacks.ts';
import { applyWorkOrderEvent } from '../use-cases/record-work-order-event.ts';

export type ReplyEvent = CloudEvent<'cn.griddispatch.reply.received.v1'>;

export function isReplyEvent(event: CloudEvent): event is ReplyEvent {
  return EventTypes[event.type].topic === Topics.repliesReceived;
}

/** The name the work-order event records as its caller: the acknowledgement came by SMS reply. */
export const SMS_REPLY_CALLER = 'sms-reply';

/**
 * replies.received → a staff member's `1 <code>` acknowledges the work order through the same path
 * as `POST /v1/work-orders/:id/events` (so sla-timer stops the ack clock alike); a caller's answer
 * is recorded on the request's callback. notification checked the code and the number; a work order
 * that moved on in the meantime (acknowledged in the app first) is left as it is.
 */
export async function onReplyReceived(ctx: IntakeContext, client: PoolClient, event: ReplyEvent, log: Logger): Promise<void> {
  const d = event.data;
  if (d.kind === 'acknowledge') {
    try {
      const result = await applyWorkOrderEvent(
        client,
        d.workOrderId,
        { type: 'acknowledged', by: d.by, note: `SMS reply ${d.code}` },
        SMS_REPLY_CALLER,
        ctx.now(),
        new Date(d.at),
      );
      log.info({ workOrderId: d.workOrderId, status: result.status }, 'work order acknowledged by SMS reply');
    } catch (err) {
      if (!(err instanceof HttpError) || (err.statusCode !== 404 && err.statusCode !== 409)) throw err;
      log.info({ workOrderId: d.workOrderId, reason: err.message }, 'SMS acknowledgement changes nothing');
    }
    return;
  }
  const result = await answerCallback(
    client,
    d.requestId,
    { reply: d.reply, satisfaction: d.satisfaction, at: new Date(d.at), via: 'sms' },
    event.id,
    ctx.now(),
  );
  log.info({ requestId: d.requestId, result: result.status }, 'callback answer by SMS');
}
