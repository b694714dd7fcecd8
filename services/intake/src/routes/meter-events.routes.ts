import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { MeterEventsResponse } from '@griddispatch/contracts';
import { requireScope, requireSource } from '@griddispatch/http';
import type { IntakeContext } from '../context.ts';
import { IntakeMeterEventsBody } from '../domain/meter-events-body.ts';
import { acceptMeterEvents } from '../use-cases/accept-meter-events.ts';
import { errorResponses } from './errors.ts';

/**
 * 1,000 events with every field at its longest stay under 1 MiB; the host's default (256 KiB) is
 * for single requests. Beyond it: 413, as for any body.
 */
const METER_EVENTS_BODY_LIMIT = 1 << 20;

export function meterEventsRoutes(ctx: IntakeContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.post(
      '/v1/meter-events',
      {
        bodyLimit: METER_EVENTS_BODY_LIMIT,
        // As for requests: a key bound to other sources gets 403 before anything is looked up.
        preHandler: [requireScope('requests:write'), requireSource((request) => (request.body as IntakeMeterEventsBody).source)],
        schema: {
          summary: 'Submit meter power-off / power-on events (主动抢修)',
          description:
            'Up to 1,000 events; idempotent on (source, eventId): `accepted` counts the events stored now, `duplicates` those ' +
            'stored before (an eventId repeated in one body counts once). An event `at` more than 5 min ahead or older than 7 days ' +
            'is 422 naming its index, and nothing of the body is stored. 202 means stored; grid-routing acts on them asynchronously.',
          tags: ['outages'],
          body: IntakeMeterEventsBody,
          response: { 202: MeterEventsResponse, ...errorResponses(400, 401, 403, 413, 415, 422, 429) },
        },
      },
      async (request, reply) => reply.code(202).send(await acceptMeterEvents(ctx, request.body, request.principal!.keyName)),
    );
  };
}
