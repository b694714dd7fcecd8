import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Pool } from 'pg';
import { z } from 'zod';
import { ErrorBody, Incident, SetEtrBody, StormBody } from '@griddispatch/contracts';
import { HttpError, requireScope } from '@griddispatch/http';
import { getIncident } from '../use-cases/incidents.ts';
import { ListIncidentsQuery, listIncidents } from '../use-cases/list-incidents.ts';
import type { RoutingContext } from '../use-cases/routing-context.ts';
import { setEtr } from '../use-cases/set-etr.ts';
import { refuseForeignGrid, visibleGrids } from '../use-cases/visible-grids.ts';
import { getStorm, setStorm, StormEntry } from '../use-cases/set-storm.ts';

/** Response schemas for the error statuses a route can answer (for the OpenAPI document). */
function errorResponses<const C extends number>(...codes: C[]): Record<C, typeof ErrorBody> {
  return Object.fromEntries(codes.map((c) => [c, ErrorBody])) as Record<C, typeof ErrorBody>;
}

const IncidentParams = z.object({ id: z.string().min(1).max(100) });

/** Outages (docs/architecture.md#incidents): incidents, their ETR, storm mode. */
export function incidentRoutes(deps: { pool: Pool; ctx: RoutingContext }): FastifyPluginAsync {
  return async (instance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/v1/incidents',
      {
        preHandler: requireScope('requests:read'),
        schema: {
          tags: ['incidents'],
          summary: 'Incidents, newest opened first, with filters and cursor pagination',
          description: 'A key with allowed grids sees only incidents of those grids and the grids under them; a gridId outside them is 403 grid_not_allowed.',
          querystring: ListIncidentsQuery,
          response: { 200: z.object({ items: z.array(Incident), nextCursor: z.string().nullable() }), ...errorResponses(400, 401, 403, 429) },
        },
      },
      async (request) => {
        const visible = await visibleGrids(deps.pool, request.principal!);
        refuseForeignGrid(visible, request.query.gridId, request.principal!.keyName);
        return listIncidents(deps.pool, request.query, visible);
      },
    );

    app.get(
      '/v1/incidents/:id',
      {
        preHandler: requireScope('requests:read'),
        schema: {
          tags: ['incidents'],
          summary: 'One incident with its children, calls, affected customers and ETR',
          description: "An incident of a grid outside a key's allowed grids is 404, as an unknown one.",
          params: IncidentParams,
          response: { 200: Incident, ...errorResponses(400, 401, 403, 404, 429) },
        },
      },
      async (request) => {
        const incident = await getIncident(deps.pool, request.params.id);
        const visible = await visibleGrids(deps.pool, request.principal!);
        // Another grid's incident is answered as if it did not exist.
        if (!incident || (visible && !visible.has(incident.gridId))) throw new HttpError(404, 'not_found', `no incident ${request.params.id}`);
        return incident;
      },
    );

    app.put(
      '/v1/incidents/:id/etr',
      {
        preHandler: requireScope('workorders:write'),
        schema: {
          tags: ['incidents'],
          summary: 'Set the estimated restoration time by hand (never overwritten by a computed one)',
          params: IncidentParams,
          body: SetEtrBody,
          response: { 200: Incident, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429) },
        },
      },
      async (request) => {
        const visible = await visibleGrids(deps.pool, request.principal!);
        if (visible && !visible.has((await getIncident(deps.pool, request.params.id))?.gridId ?? '')) {
          throw new HttpError(404, 'not_found', `no incident ${request.params.id}`);
        }
        const outcome = await setEtr(deps.ctx, deps.pool, request.params.id, request.body);
        if (outcome.status === 'not_found') throw new HttpError(404, 'not_found', `no incident ${request.params.id}`);
        if (outcome.status === 'not_open') {
          throw new HttpError(409, 'incident_not_open', `incident ${request.params.id} is ${outcome.incident.status}`, { status: outcome.incident.status });
        }
        request.log.info({ incidentId: request.params.id, by: request.body.by, reason: request.body.reason }, 'incident ETR set by hand');
        return outcome.incident;
      },
    );

    app.get(
      '/v1/storm',
      {
        preHandler: requireScope('requests:read'),
        schema: {
          tags: ['incidents'],
          summary: 'Storm mode per grid (`*`: every grid without a row of its own)',
          response: { 200: z.object({ items: z.array(StormEntry) }), ...errorResponses(401, 403, 429) },
        },
      },
      async () => ({ items: await getStorm(deps.pool) }),
    );

    app.put(
      '/v1/storm',
      {
        preHandler: requireScope('admin'),
        schema: {
          tags: ['incidents'],
          summary: 'Storm mode on or off for some grids or all: the policy ETRs of their open incidents are rescaled',
          body: StormBody,
          response: { 200: z.object({ items: z.array(StormEntry), rescaled: z.number().int().min(0) }), ...errorResponses(400, 401, 403, 413, 415, 422, 429) },
        },
      },
      async (request) => {
        const outcome = await setStorm(deps.ctx, deps.pool, request.body);
        if (outcome.status === 'unknown_grids') throw new HttpError(422, 'unknown_grid', `no grid ${outcome.gridIds.join(', ')}`, { gridIds: outcome.gridIds });
        return { items: outcome.storm, rescaled: outcome.rescaled };
      },
    );
  };
}
