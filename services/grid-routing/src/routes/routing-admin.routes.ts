import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Pool } from 'pg';
import { z } from 'zod';
import { ErrorBody, IsoDateTime } from '@griddispatch/contracts';
import { HttpError, requireScope } from '@griddispatch/http';
import { listUnroutable, rerouteRequest } from '../use-cases/reroute-request.ts';
import type { RoutingContext } from '../use-cases/route-request.ts';
import { refuseGridLimitedKey } from '../use-cases/visible-grids.ts';

const RerouteResponse = z.object({
  id: z.string(),
  status: z.literal('assigned'),
  gridId: z.string(),
  resolvedBy: z.string(),
  incidentId: z.string().nullable(),
  /** Id of the dispatch.assigned event emitted. */
  eventId: z.string(),
});

const UnroutableList = z.object({
  items: z.array(z.object({ requestId: z.string(), category: z.string(), reason: z.string(), routedAt: IsoDateTime })),
});

/** Operators see the requests no grid could take and re-route them once the data is fixed. */
export function routingAdminRoutes(deps: { pool: Pool; ctx: RoutingContext }): FastifyPluginAsync {
  return async (instance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/v1/routing/unroutable',
      {
        preHandler: requireScope('requests:read'),
        schema: {
          tags: ['routing'],
          summary: 'Requests waiting at the fallback desk because no grid could be resolved',
          querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
          response: { 200: UnroutableList, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (request) => {
        refuseGridLimitedKey(request.principal!, 'the list of requests no grid could be resolved for');
        return { items: await listUnroutable(deps.pool, request.query.limit) };
      },
    );
    app.post(
      '/v1/requests/:id/reroute',
      {
        preHandler: requireScope('admin'),
        schema: {
          tags: ['routing'],
          summary: 'Re-resolve an unroutable request after the grid data was fixed (or name its grid)',
          params: z.object({ id: z.string().min(1) }),
          // Fastify hands a missing body over as null.
          body: z.strictObject({ gridId: z.string().min(1).optional() }).nullish(),
          response: { 200: RerouteResponse, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody },
        },
      },
      async (request) => {
        const id = request.params.id;
        const gridId = request.body?.gridId;
        const outcome = await rerouteRequest(deps.ctx, deps.pool, id, gridId ? { gridId } : {});
        switch (outcome.status) {
          case 'not_found':
            throw new HttpError(404, 'not_found', `grid-routing has not seen request ${id}`);
          case 'already_assigned':
            throw new HttpError(409, 'already_assigned', `request ${id} is already assigned to grid ${outcome.gridId ?? '?'}`, { gridId: outcome.gridId });
          case 'unknown_grid':
            throw new HttpError(422, 'unknown_grid', `no grid ${outcome.gridId}`);
          case 'still_unroutable':
            throw new HttpError(422, 'still_unroutable', `request ${id} still resolves to no grid: ${outcome.reason}`, { reason: outcome.reason });
          case 'assigned':
            return {
              id,
              status: 'assigned' as const,
              gridId: outcome.gridId,
              resolvedBy: outcome.resolvedBy,
              incidentId: outcome.incidentId,
              eventId: outcome.eventId,
            };
        }
      },
    );
  };
}
