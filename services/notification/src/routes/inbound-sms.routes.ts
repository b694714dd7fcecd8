import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorBody, InboundSmsBody, InboundSmsResponse, type InboundSms } from '@griddispatch/contracts';
import { HttpError, requireScope } from '@griddispatch/http';
import { InboundSmsFormatError, parseAlibabaUplink, parseTencentUplink } from '../channels/sms-inbound.ts';
import { futureMessages, receiveSms, type ReceiveSmsDeps } from '../replies/receive-sms.ts';

/** Refuses (400, nothing stored) a post holding a message dated ahead of what a gateway's clock may be. */
function refuseFuture(messages: readonly InboundSms[], now: Date, batch: boolean): void {
  const future = futureMessages(messages, now);
  if (future.length === 0) return;
  throw new HttpError(
    400,
    'validation_failed',
    'at: lies in the future',
    future.map((i) => ({ in: 'body', path: batch ? `${i}.at` : 'at', message: 'lies in the future' })),
  );
}

/** A vendor's uplink push → the replies, or 400 naming what is not the vendor's format. */
function vendorReplies(parse: (body: unknown) => InboundSms[], body: unknown, now: Date): InboundSms[] {
  let messages: InboundSms[];
  try {
    messages = parse(body);
  } catch (err) {
    if (err instanceof InboundSmsFormatError) throw new HttpError(400, 'validation_failed', err.message);
    throw err;
  }
  refuseFuture(messages, now, true);
  return messages;
}

/** What every inbound SMS route may answer instead of 200: a bad body, no or a wrong key, too large, not JSON/form, too many. */
const REFUSALS = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 413: ErrorBody, 415: ErrorBody, 429: ErrorBody } as const;

const VENDOR_DESCRIPTION =
  "The vendor's own uplink (上行短信) push, read by its parser in channels/sms-inbound.ts and then taken exactly as POST /v1/inbound/sms; " +
  "answered in the vendor's expected shape once every message is durable. The push must carry a key of scope inbound:write " +
  '(a relay in front of grid-dispatch adds it).';

export function inboundSmsRoutes(deps: ReceiveSmsDeps): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.post(
      '/v1/inbound/sms',
      {
        preHandler: requireScope('inbound:write'),
        schema: {
          summary: 'SMS replies received by the service number (the SMS gateway posts them)',
          description:
            'One message `{from, text, at}` or an array of up to 100. `1 <code>` from the addressee of a staff notice acknowledges its ' +
            'work order (through intake, within seconds); `1`/`2` (optionally followed by a satisfaction 1–5, e.g. `1 5`) or `满意度5` ' +
            "answers the latest callback asked of that number. An unknown, stale or another number's code, or a text that is not an answer " +
            'from an asked number, is refused and the sender is told by SMS; a number nobody asked is refused without an answer. The ' +
            'same (from, at, text) again is `duplicate` and changes nothing. 200 once every message is durable.',
          tags: ['replies'],
          body: InboundSmsBody,
          response: { 200: InboundSmsResponse, ...REFUSALS },
        },
      },
      async (request) => {
        const messages = Array.isArray(request.body) ? request.body : [request.body];
        // A message from the future would outlive its code's expiry: the whole post is refused, nothing stored.
        refuseFuture(messages, deps.now(), Array.isArray(request.body));
        return { results: await receiveSms(deps, messages) };
      },
    );
    // The vendors' pushes: their parser, then the same use case (replies/receive-sms.ts).
    app.post(
      '/v1/inbound/sms/alibaba',
      {
        preHandler: requireScope('inbound:write'),
        schema: {
          summary: 'SMS replies pushed by Alibaba Cloud SMS (SmsUp HTTP batch push)',
          description: VENDOR_DESCRIPTION,
          tags: ['replies'],
          body: z.unknown(),
          response: {
            200: z.object({ code: z.literal(0), msg: z.string() }),
            ...REFUSALS,
          },
        },
      },
      async (request) => {
        await receiveSms(deps, vendorReplies(parseAlibabaUplink, request.body, deps.now()));
        return { code: 0 as const, msg: '成功' };
      },
    );
    app.post(
      '/v1/inbound/sms/tencent',
      {
        preHandler: requireScope('inbound:write'),
        schema: {
          summary: 'SMS replies pushed by Tencent Cloud SMS (reply callback)',
          description: VENDOR_DESCRIPTION,
          tags: ['replies'],
          body: z.unknown(),
          response: {
            200: z.object({ result: z.literal(0), errmsg: z.string() }),
            ...REFUSALS,
          },
        },
      },
      async (request) => {
        await receiveSms(deps, vendorReplies(parseTencentUplink, request.body, deps.now()));
        return { result: 0 as const, errmsg: 'OK' };
      },
    );
  };
}
