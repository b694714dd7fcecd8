import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Pool } from 'pg';
import { z } from 'zod';
import { CreateSubscriptionBody, CreateSubscriptionResponse, ErrorBody, IsoDateTime, SubscriptionEventName } from '@griddispatch/contracts';
import { hasScope, HttpError, requireScope } from '@griddispatch/http';
import {
  createSubscription,
  deleteSubscription,
  listSubscriptions,
  RefusedTargetError,
  SubscriptionLimitError,
  type Caller,
  type CreateLimits,
} from '../use-cases/manage-subscriptions.ts';
import { GridNotAllowedError } from '../use-cases/key-grids.ts';

const SubscriptionView = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(SubscriptionEventName),
  gridIds: z.array(z.string()).nullable(),
  status: z.enum(['active', 'disabled']),
  disabledReason: z.string().nullable(),
  personalData: z.boolean(),
  createdAt: IsoDateTime,
});

export function callerOf(request: FastifyRequest): Caller {
  const principal = request.principal!;
  return { keyName: principal.keyName, admin: hasScope(principal, 'admin'), piiRead: hasScope(principal, 'pii:read'), grids: principal.grids };
}

export interface SubscriptionRoutesDeps {
  pool: Pool;
  now: () => Date;
  limits: CreateLimits;
}

export function subscriptionRoutes(deps: SubscriptionRoutesDeps): FastifyPluginAsync {
  return async (instance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();
    app.post(
      '/v1/subscriptions',
      {
        preHandler: requireScope('subscriptions:write'),
        schema: {
          tags: ['subscriptions'],
          summary: 'Register a webhook; the signing secret is shown once',
          description:
            'A key with allowed grids (GD_API_KEYS `:grids=g+g`) may name only those grids and grids known to lie under them (else 403 ' +
            "grid_not_allowed, nothing stored); without gridIds its subscription is stored with the key's grids.",
          body: CreateSubscriptionBody,
          response: { 201: CreateSubscriptionResponse, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 409: ErrorBody, 422: ErrorBody },
        },
      },
      async (request, reply) => {
        try {
          const created = await createSubscription(deps.pool, request.body, callerOf(request), deps.now(), deps.limits);
          return reply.code(201).send(created);
        } catch (err) {
          if (err instanceof RefusedTargetError) throw new HttpError(422, 'refused_target', err.message, { field: 'url' });
          if (err instanceof GridNotAllowedError) throw new HttpError(403, 'grid_not_allowed', err.message, { field: 'gridIds', grids: err.grids });
          if (err instanceof SubscriptionLimitError) throw new HttpError(409, 'subscription_limit', err.message, { max: deps.limits.maxPerKey });
          throw err;
        }
      },
    );
    app.get(
      '/v1/subscriptions',
      {
        preHandler: requireScope('subscriptions:write'),
        schema: {
          tags: ['subscriptions'],
          summary: "The caller's webhooks (admin: all), without secrets",
          response: { 200: z.object({ items: z.array(SubscriptionView) }), 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (request) => ({ items: await listSubscriptions(deps.pool, callerOf(request)) }),
    );
    app.delete(
      '/v1/subscriptions/:id',
      {
        preHandler: requireScope('subscriptions:write'),
        schema: {
          tags: ['subscriptions'],
          summary: 'Delete a webhook; deliveries not yet sent are dropped',
          params: z.object({ id: z.uuid() }),
          response: { 204: z.null(), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
        },
      },
      async (request, reply) => {
        if (!(await deleteSubscription(deps.pool, request.params.id, callerOf(request), deps.now()))) {
          throw new HttpError(404, 'not_found', `no subscription ${request.params.id}`);
        }
        return reply.code(204).send(null);
      },
    );
  };
}
