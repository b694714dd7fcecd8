import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ErrorBody, InboundSmsBody, InboundSmsResponse } from '@griddispatch/contracts';
import { HttpError, requireScope } from '@griddispatch/http';
import { futureMessages, receiveSms, type ReceiveSmsDeps } from '../replies/receive-sms.ts';

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
          response: { 200: InboundSmsResponse, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 413: ErrorBody, 415: ErrorBody, 429: ErrorBody },
        },
      },
      async (request) => {
        const messages = Array.isArray(request.body) ? request.body : [request.body];
        // A message from the future would outlive its code's expiry: the whole post is refused, nothing stored.
        const future = futureMessages(messages, deps.now());
        if (future.length > 0) {
          throw new HttpError(400, 'validation_failed', 'at: lies in the future', future.map((i) => ({ in: 'body', path: Array.isArray(request.body) ? `${i}.at` : 'at', message: 'lies in the future' })));
        }
        return { results: await receiveSms(deps, messages) };
      },
    );
  };
}
