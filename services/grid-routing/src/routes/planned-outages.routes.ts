import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Pool } from 'pg';
import { z } from 'zod';
import { CreatePlannedOutageBody, ErrorBody, IsoDateTime, MovePlannedOutageBody, PlannedOutage } from '@griddispatch/contracts';
import { HttpError, requireScope } from '@griddispatch/http';
import { cancelPlannedOutage, movePlannedOutage, type ChangeOutcome } from '../use-cases/change-planned-outage.ts';
import { createPlannedOutage, listPlannedOutages } from '../use-cases/plan-outage.ts';
import type { RoutingContext } from '../use-cases/route-request.ts';

const hours = (ms: number) => `${Math.round((ms / 3_600_000) * 10) / 10} h`;

const OutageParams = z.strictObject({ id: z.string().min(1).max(64) });

/** A move's or a cancellation's outcome as the answer: the outage (200), or why not (404, 409, 422). */
function answer(id: string, outcome: ChangeOutcome): PlannedOutage {
  switch (outcome.status) {
    case 'changed':
    case 'unchanged':
      return outcome.outage;
    case 'not_found':
      throw new HttpError(404, 'not_found', `no planned outage ${id}`);
    case 'cancelled':
      throw new HttpError(409, 'cancelled', `planned outage ${id} is cancelled`);
    case 'started':
      throw new HttpError(409, 'started', `planned outage ${id} started at ${outcome.start}: it can no longer be moved or cancelled`, { start: outcome.start });
    case 'invalid_window':
      throw new HttpError(422, 'invalid_window', outcome.message);
    case 'short_notice':
      throw new HttpError(
        422,
        'short_notice',
        `moved earlier, the outage must still start at least ${hours(outcome.requiredMs)} from now (given ${hours(outcome.noticeMs)})`,
        {
          requiredMs: outcome.requiredMs,
          noticeMs: outcome.noticeMs,
        },
      );
    case 'overlap':
      throw new HttpError(409, 'overlap', `台区 ${outcome.districtCode} already has scheduled outage ${outcome.outageId} in that window`, {
        outageId: outcome.outageId,
        districtCode: outcome.districtCode,
      });
  }
}

/**
 * `POST /v1/planned-outages` takes scope `workorders:write`: outages are posted by the station's
 * scheduling side (PMS / dispatch desk), the same systems that write work orders, not by the
 * callers' intake systems (`requests:write`); `admin` passes any scope. Reading takes `requests:read`.
 */
export function plannedOutageRoutes(deps: { pool: Pool; ctx: RoutingContext }): FastifyPluginAsync {
  return async (instance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();
    app.post(
      '/v1/planned-outages',
      {
        preHandler: requireScope('workorders:write'),
        schema: {
          tags: ['outages'],
          summary: 'Announce a planned (≥ GD_PLANNED_NOTICE ahead) or temporary (≥ GD_TEMPORARY_NOTICE) outage of some 台区 or a whole feeder',
          body: CreatePlannedOutageBody,
          response: { 200: PlannedOutage, 201: PlannedOutage, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 409: ErrorBody, 422: ErrorBody },
        },
      },
      async (request, reply) => {
        const outcome = await createPlannedOutage(deps.ctx.config, deps.pool, request.body, deps.ctx.now());
        switch (outcome.status) {
          case 'created':
            return reply.code(201).send(outcome.outage);
          case 'existing':
            return reply.code(200).send(outcome.outage);
          case 'conflict':
            throw new HttpError(409, 'conflict', `externalId ${request.body.externalId} was used for another outage (${outcome.id}) with a different body`, {
              id: outcome.id,
            });
          case 'overlap':
            throw new HttpError(409, 'overlap', `台区 ${outcome.districtCode} already has scheduled outage ${outcome.outageId} in that window`, {
              outageId: outcome.outageId,
              districtCode: outcome.districtCode,
            });
          case 'short_notice':
            throw new HttpError(
              422,
              'short_notice',
              `a ${request.body.kind} outage must be announced at least ${hours(outcome.requiredMs)} before it starts (given ${hours(outcome.noticeMs)})`,
              {
                requiredMs: outcome.requiredMs,
                noticeMs: outcome.noticeMs,
              },
            );
          case 'unknown_districts':
            throw new HttpError(422, 'unknown_district', `unknown 台区 ${outcome.codes.join(', ')}`, { codes: outcome.codes });
          case 'unknown_feeder':
            throw new HttpError(422, 'unknown_feeder', `feeder ${outcome.feederCode} supplies no known 台区`, { feederCode: outcome.feederCode });
        }
      },
    );
    app.put(
      '/v1/planned-outages/:id',
      {
        preHandler: requireScope('workorders:write'),
        schema: {
          tags: ['outages'],
          summary: 'Move an outage that has not started to a new window; its customers are told of the change and the 24 h reminder moves with it',
          params: OutageParams,
          body: MovePlannedOutageBody,
          response: { 200: PlannedOutage, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody },
        },
      },
      async (request) => answer(request.params.id, await movePlannedOutage(deps.ctx.config, deps.pool, request.params.id, request.body, deps.ctx.now())),
    );
    app.post(
      '/v1/planned-outages/:id/cancel',
      {
        preHandler: requireScope('workorders:write'),
        schema: {
          tags: ['outages'],
          summary: 'Cancel an outage that has not started; its customers are told and the 24 h reminder is dropped',
          params: OutageParams,
          response: { 200: PlannedOutage, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (request) => answer(request.params.id, await cancelPlannedOutage(deps.pool, request.params.id, deps.ctx.now())),
    );
    app.get(
      '/v1/planned-outages',
      {
        preHandler: requireScope('requests:read'),
        schema: {
          tags: ['outages'],
          summary: 'Planned and temporary outages, by start',
          querystring: z.strictObject({
            districtCode: z.string().min(1).optional(),
            feederCode: z.string().min(1).optional(),
            /** Only outages that end at or after this instant. */
            from: IsoDateTime.optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(100),
          }),
          response: { 200: z.object({ items: z.array(PlannedOutage) }), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (request) => {
        const { districtCode, feederCode, from, limit } = request.query;
        return { items: await listPlannedOutages(deps.pool, { districtCode, feederCode, from: from ? new Date(from) : undefined, limit }) };
      },
    );
  };
}
