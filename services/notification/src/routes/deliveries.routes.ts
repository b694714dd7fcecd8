import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Pool } from 'pg';
import { z } from 'zod';
import { ErrorBody, IsoDateTime } from '@griddispatch/contracts';
import { HttpError, requireScope } from '@griddispatch/http';
import { ATTEMPT_OUTCOMES, DELIVERY_STATUSES } from '../schema.ts';
import { InvalidCursorError, listDeliveries } from '../use-cases/list-deliveries.ts';
import { callerOf } from './subscriptions.routes.ts';

const DeliveryStatus = z.enum(DELIVERY_STATUSES);

const AttemptView = z.object({
  attempt: z.number().int(),
  at: IsoDateTime,
  outcome: z.enum(ATTEMPT_OUTCOMES),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  latencyMs: z.number().int(),
});

const DeliveryView = z.object({
  id: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  workOrderId: z.string().nullable(),
  channel: z.enum(['webhook', 'wecom', 'sms', 'log']),
  recipient: z.string(),
  subscriptionId: z.string().nullable(),
  status: DeliveryStatus,
  attempts: z.number().int(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  latencyMs: z.number().int().nullable(),
  nextAttemptAt: IsoDateTime.nullable(),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
  deliveredAt: IsoDateTime.nullable(),
  history: z.array(AttemptView),
});

export function deliveryRoutes(deps: { pool: Pool }): FastifyPluginAsync {
  return async (instance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/v1/deliveries',
      {
        // subscriptions:write sees its own webhooks' deliveries; admin (implied) sees every channel.
        preHandler: requireScope('subscriptions:write'),
        schema: {
          tags: ['subscriptions'],
          summary: 'Delivery log: status, attempts, status codes and errors, newest first',
          querystring: z.strictObject({
            eventId: z.string().min(1).optional(),
            subscriptionId: z.uuid().optional(),
            status: DeliveryStatus.optional(),
            cursor: z.string().min(1).optional(),
            limit: z.coerce.number().int().min(1).max(200).default(50),
          }),
          response: { 200: z.object({ items: z.array(DeliveryView), nextCursor: z.string().nullable() }), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (request) => {
        try {
          return await listDeliveries(deps.pool, request.query, callerOf(request));
        } catch (err) {
          if (err instanceof InvalidCursorError) throw new HttpError(400, 'invalid_cursor', err.message, { field: 'cursor' });
          throw err;
        }
      },
    );
  };
}
