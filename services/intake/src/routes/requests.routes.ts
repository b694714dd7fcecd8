import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CreateRequestResponse, RequestView } from '@griddispatch/contracts';
import { HttpError, requireScope, requireSource } from '@griddispatch/http';
import type { IntakeContext } from '../context.ts';
import { IntakeRequestBody } from '../domain/request-body.ts';
import { createRequest } from '../use-cases/create-request.ts';
import { INCIDENT_WORK_ORDER_SOURCE } from '../use-cases/open-incident-work-order.ts';
import { ListRequestsQuery, listRequests } from '../use-cases/list-requests.ts';
import { gridFilter, visibleGrids } from '../use-cases/visible-grids.ts';
import { viewRequest } from '../use-cases/view-request.ts';
import { errorResponses } from './errors.ts';

const RequestSummary = RequestView.omit({ timeline: true, callback: true });

/**
 * `grid-dispatch` is the source of the work orders intake opens for incidents nobody called about
 * (`incident:<id>`, docs/architecture.md#incidents rule 2): a caller taking one of those keys first would leave the
 * incident without its crew's work order. No key may post it, whatever its sources.
 */
async function refuseReservedSource(request: FastifyRequest): Promise<void> {
  const { source } = request.body as IntakeRequestBody;
  if (source === INCIDENT_WORK_ORDER_SOURCE) {
    throw new HttpError(403, 'source_not_allowed', `source "${source}" is reserved for the work orders grid-dispatch opens itself`, { source });
  }
}

export function requestsRoutes(ctx: IntakeContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();

    app.post(
      '/v1/requests',
      {
        // The source is checked before anything is looked up or stored: a key bound to other
        // sources gets 403 whether or not the (source, externalId) exists.
        preHandler: [requireScope('requests:write'), requireSource((request) => (request.body as IntakeRequestBody).source), refuseReservedSource],
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
        const visible = await visibleGrids(ctx.pool, request.principal!);
        // Another grid's request is answered as if it did not exist.
        if (!found || (visible && (found.row.gridId === null || !visible.has(found.row.gridId))))
          throw new HttpError(404, 'not_found', `request ${request.params.id} not found`);
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
        const visible = await visibleGrids(ctx.pool, request.principal!);
        return listRequests(ctx.pool, {
          statuses: q.status ? [q.status] : undefined,
          gridIds: gridFilter(visible, q.gridId ? [q.gridId] : undefined, request.principal!.keyName),
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
