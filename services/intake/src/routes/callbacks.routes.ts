import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CallbackAnswerBody, isUuid, RequestView } from '@griddispatch/contracts';
import { withTransaction } from '@griddispatch/db';
import { HttpError, requireScope } from '@griddispatch/http';
import type { IntakeContext } from '../context.ts';
import { answerCallback } from '../use-cases/callbacks.ts';
import { mayTouchWorkOrder } from '../use-cases/visible-grids.ts';
import { errorResponses } from './errors.ts';

const CallbackRecorded = z.object({
  requestId: z.string(),
  /** false: the answer was known already (the first reply and the first satisfaction are kept). */
  changed: z.boolean(),
  callback: RequestView.shape.callback.unwrap(),
});

/** How far in the future an agent's clock may be before `at` is refused. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export function callbackRoutes(ctx: IntakeContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.post(
      '/v1/callbacks/:requestId',
      {
        preHandler: requireScope('requests:write'),
        schema: {
          summary: "A caller's answer to the callback (回访) after its incident's restoration",
          description:
            'For answers taken by phone or in another system (SMS replies arrive by POST /v1/inbound/sms). `still_out` makes grid-routing open a ' +
            'follow-up incident on the 台区 with the original start time. The first reply and the first satisfaction are kept: a repeated or ' +
            'contradicting answer is 200 with changed=false. 409 `not_asked` while the request was not asked (its incident not restored).',
          tags: ['callbacks'],
          params: z.object({ requestId: z.string() }),
          body: CallbackAnswerBody,
          response: { 200: CallbackRecorded, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429) },
        },
      },
      async (request) => {
        const { requestId } = request.params;
        // A key limited to grids answers for their requests only (another grid's: as unknown).
        if (!isUuid(requestId) || !(await mayTouchWorkOrder(ctx.pool, request.principal!, requestId)))
          throw new HttpError(404, 'not_found', `request ${requestId} not found`);
        const now = ctx.now();
        const at = request.body.at ? new Date(request.body.at) : now;
        if (at.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) {
          throw new HttpError(400, 'validation_failed', 'at: lies in the future', [{ in: 'body', path: 'at', message: 'lies in the future' }]);
        }
        return withTransaction(ctx.pool, async (client) => {
          const { rowCount } = await client.query('SELECT 1 FROM intake.requests WHERE id = $1', [requestId]);
          if (!rowCount) throw new HttpError(404, 'not_found', `request ${requestId} not found`);
          const answer = { reply: request.body.reply, satisfaction: request.body.satisfaction ?? null, at, via: 'api' as const };
          const result = await answerCallback(client, requestId, answer, randomUUID(), now);
          if (result.status === 'not_asked')
            throw new HttpError(409, 'not_asked', `request ${requestId} has not been asked for a callback (its incident is not restored)`);
          return { requestId, changed: result.status === 'recorded', callback: result.callback };
        });
      },
    );
  };
}
