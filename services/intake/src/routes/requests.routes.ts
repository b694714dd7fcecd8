import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CreateRequestResponse, RequestView } from '@griddispatch/contracts';
import { HttpError, requireScope, requireSource } from '@griddispatch/http';
import type { IntakeContext } from '../context.ts';
import { IntakeRequestBody } from '../domain/request-body.ts';
import { createRequest } from '../use-cases/create-request.ts';
import { ListRequestsQuery, listRequests } from '../use-cases/list-requests.ts';
import { viewRequest } from '../use-cases/view-request.ts';
import { errorResponses } from './errors.ts';

const RequestSummary = RequestView.omit({ timeline: true });

export function requestsRoutes(ctx: IntakeContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();

    app.post(
      '/v1/requests',
      {
        // The source is checked before anything is looked up or stored: a key bound to other
        // sources gets 403 whether or not the (source, externalId) exists.
        preHandler: [requireScope('requests:write'), requireSource((request) => (request.body as IntakeRequestBody).source)],
        schema: {
          summary: 'Submit a service request',
          description:
            'Idempotent on (source, externalId): a retry with the same body answers the same id with duplicate=true; ' +
            'the same key with another body is 409. 202 means the request is stored; routing happens asynchronously.',
          tags: ['requests'],
          body: IntakeRequestBody,
          response: { 202: CreateRequestResponse, ...errorResponses(400, 401, 403, 409, 413, 415, 429) },
        },
      },
      async (request, reply) => {
        const result = await createRequest(ctx, { body: request.body, channel: 'api', receivedBy: request.principal!.keyName });
        return reply.code(202).send(result);
      },
    );

    app.get(
      '/v1/requests/:id',
      {
        preHandler: requireScope('requests:read'),
        schema: {
          summary: 'A request with its status, grid, assignees, SLA and timeline',
          tags: ['requests'],
          params: z.object({ id: z.string() }),
          response: { 200: RequestView, ...errorResponses(401, 403, 404, 429) },
        },
      },
      async (request) => {
        const found = await viewRequest(ctx.pool, request.params.id);
        if (!found) throw new HttpError(404, 'not_found', `request ${request.params.id} not found`);
        return found.view;
      },
    );

    app.get(
      '/v1/requests',
      {
        preHandler: requireScope('requests:read'),
        schema: {
          summary: 'Requests, newest first, with filters and cursor pagination',
          tags: ['requests'],
          querystring: ListRequestsQuery,
          response: { 200: z.object({ items: z.array(RequestSummary), nextCursor: z.string().nullable() }), ...errorResponses(400, 401, 403, 429) },
        },
      },
      async (request) => {
        const q = request.query;
        return listRequests(ctx.pool, {
          statuses: q.status ? [q.status] : undefined,
          gridId: q.gridId,
          category: q.category,
          breached: q.breached,
          from: q.from,
          to: q.to,
          cursor: q.cursor,
          limit: q.limit,
        });
      },
    );
  };
}
