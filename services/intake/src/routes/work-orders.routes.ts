import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isUuid, RequestStatus, WorkOrderEventBody } from '@griddispatch/contracts';
import { HttpError, requireScope } from '@griddispatch/http';
import type { IntakeContext } from '../context.ts';
import { recordWorkOrderEvent } from '../use-cases/record-work-order-event.ts';
import { mayTouchWorkOrder } from '../use-cases/visible-grids.ts';
import { errorResponses } from './errors.ts';

const EventAccepted = z.object({ workOrderId: z.string(), eventId: z.string(), previousStatus: RequestStatus, status: RequestStatus });

export function workOrderRoutes(ctx: IntakeContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.post(
      '/v1/work-orders/:id/events',
      {
        preHandler: requireScope('workorders:write'),
        schema: {
          summary: 'Report progress on a work order (field app, operators)',
          description:
            'received → assigned → acknowledged → en_route → arrived → resolved → closed; suspended/resumed, reassigned (keeps the status, ' +
            'needs `assignee`) and cancelled from any open state. An illegal event is 409 with the allowed next events in details.',
          tags: ['work orders'],
          params: z.object({ id: z.string() }),
          body: WorkOrderEventBody,
          response: { 200: EventAccepted, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429) },
        },
      },
      async (request) => {
        const { id } = request.params;
        if (!isUuid(id) || !(await mayTouchWorkOrder(ctx.pool, request.principal!, id))) throw new HttpError(404, 'not_found', `work order ${id} not found`);
        return recordWorkOrderEvent(ctx, id, request.body, request.principal!.keyName);
      },
    );
  };
}
