import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Pool } from 'pg';
import { z } from 'zod';
import { ErrorBody, GridKind, GridView } from '@griddispatch/contracts';
import { HttpError, requireScope } from '@griddispatch/http';
import { getGrid, listGrids } from '../use-cases/view-grids.ts';
import { visibleGrids } from '../use-cases/visible-grids.ts';

export function gridRoutes(deps: { pool: Pool }): FastifyPluginAsync {
  return async (instance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/v1/grids',
      {
        preHandler: requireScope('requests:read'),
        schema: {
          tags: ['grids'],
          summary: 'Service grids with their 台区, polygon and staff',
          description: 'A key with allowed grids lists those grids and the grids under them only.',
          querystring: z.strictObject({
            kind: GridKind.optional(),
            parentId: z.string().min(1).optional(),
          }),
          response: { 200: z.object({ items: z.array(GridView) }), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (request) => {
        const visible = await visibleGrids(deps.pool, request.principal!);
        return { items: (await listGrids(deps.pool, request.query)).filter((g) => !visible || visible.has(g.id)) };
      },
    );
    app.get(
      '/v1/grids/:id',
      {
        preHandler: requireScope('requests:read'),
        schema: {
          tags: ['grids'],
          summary: 'One service grid',
          description: "A grid outside a key's allowed grids is 404, as an unknown one.",
          params: z.object({ id: z.string().min(1) }),
          response: { 200: GridView, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => {
        const grid = await getGrid(deps.pool, request.params.id);
        const visible = await visibleGrids(deps.pool, request.principal!);
        if (!grid || (visible && !visible.has(grid.id))) throw new HttpError(404, 'not_found', `no grid ${request.params.id}`);
        return grid;
      },
    );
  };
}
