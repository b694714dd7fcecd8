import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { CreateRequestResponse } from '@griddispatch/contracts';
import { HttpError, requireScope, requireSource, type FieldIssue } from '@griddispatch/http';
import { SOURCE_ADAPTERS, type SourceAdapter } from '../adapters/index.ts';
import type { IntakeContext } from '../context.ts';
import { IntakeRequestBody } from '../domain/request-body.ts';
import { createRequest } from '../use-cases/create-request.ts';
import { errorResponses } from './errors.ts';

/** Maps an adapter's payload and validates the result; errors name the caller's own fields. */
export function mapPayload(adapter: SourceAdapter<z.ZodType>, payload: unknown, timeZone: string): IntakeRequestBody {
  const mapped = IntakeRequestBody.safeParse(adapter.toRequest(payload, { timeZone }));
  if (mapped.success) return mapped.data;
  const issues: FieldIssue[] = mapped.error.issues.map((issue) => {
    const ours = issue.path.join('.');
    const path = adapter.fieldNames[ours] ?? adapter.fieldNames[issue.path.slice(0, 2).join('.')] ?? ours;
    return { in: 'body', path, message: issue.message };
  });
  throw new HttpError(400, 'validation_failed', `${issues[0]!.path}: ${issues[0]!.message}`, issues);
}

/** POST /v1/requests/<source> for every adapter: the caller's field names, our pipeline. */
export function adapterRoutes(ctx: IntakeContext & { timeZone: string }): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    for (const adapter of SOURCE_ADAPTERS) {
      app.post(
        `/v1/requests/${adapter.source}`,
        {
          preHandler: [requireScope('requests:write'), requireSource(() => adapter.source)],
          schema: {
            summary: `Submit a ${adapter.title}`,
            description: `Same semantics as POST /v1/requests with source "${adapter.source}"; the idempotency key is the source's own id.`,
            tags: ['source adapters'],
            body: adapter.schema,
            response: { 202: CreateRequestResponse, ...errorResponses(400, 401, 403, 409, 413, 415, 429) },
          },
        },
        async (request, reply) => {
          const body = mapPayload(adapter, request.body, ctx.timeZone);
          const result = await createRequest(ctx, { body, channel: adapter.source, receivedBy: request.principal!.keyName });
          return reply.code(202).send(result);
        },
      );
    }
  };
}
