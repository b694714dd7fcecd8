import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Pool } from 'pg';
import { z } from 'zod';
import { ErrorBody } from '@griddispatch/contracts';
import { requireScope } from '@griddispatch/http';
import { toCsvText, wantsCsv } from '../domain/csv.ts';
import { ReliabilityQuery, ReliabilityReport, reportReliability, type ReliabilityRow } from '../use-cases/report-reliability.ts';
import { ReliabilitySeries, ReliabilitySeriesQuery, reportReliabilitySeries } from '../use-cases/report-reliability-series.ts';
import { ResponseQuery, ResponseReport, reportResponse, type ResponseRow } from '../use-cases/report-response.ts';
import { refuseGridLimitedKey } from '../use-cases/visible-grids.ts';

function errorResponses<const C extends number>(...codes: C[]): Record<C, typeof ErrorBody> {
  return Object.fromEntries(codes.map((c) => [c, ErrorBody])) as Record<C, typeof ErrorBody>;
}

const RELIABILITY_COLUMNS = [
  'key',
  'customersServed',
  'customerInterruptions',
  'customerMinutes',
  'saifi',
  'saidi',
  'caidi',
  'asai',
] as const satisfies readonly (keyof ReliabilityRow)[];

const RESPONSE_COLUMNS = [
  'key',
  'workOrders',
  'mtta',
  'mttr',
  'arrivalOnTime',
  'etrAccuracy',
  'incidentsRestored',
] as const satisfies readonly (keyof ResponseRow)[];

/** By category, the grid and the category get columns of their own (the key joins them). */
const RESPONSE_CATEGORY_COLUMNS = ['key', 'gridId', 'category', ...RESPONSE_COLUMNS.slice(1)] as const satisfies readonly (keyof ResponseRow)[];

/** Reports (docs/architecture.md#reports). JSON, or CSV with `Accept: text/csv` (what is not a row then in headers). */
export function reportRoutes(deps: { pool: Pool; timeZone: string; now: () => Date }): FastifyPluginAsync {
  return async (instance) => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/v1/reports/reliability',
      {
        preHandler: requireScope('requests:read'),
        schema: {
          tags: ['reports'],
          summary: 'Supply reliability per grid or feeder (IEEE 1366: SAIFI, SAIDI, CAIDI, ASAI; major event days by 2.5β). CSV with Accept: text/csv',
          querystring: ReliabilityQuery,
          // The CSV (a string) is sent as it is; the JSON is checked against the report's schema.
          response: { 200: z.union([ReliabilityReport, z.string().describe('text/csv: header row, one row per key')]), ...errorResponses(400, 401, 403, 429) },
        },
      },
      async (request, reply) => {
        refuseGridLimitedKey(request.principal!, 'the reliability report');
        const report = await reportReliability(deps.pool, deps.timeZone, request.query);
        if (!wantsCsv(request.headers.accept)) return report;
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="reliability-${report.groupBy}.csv"`)
          .header('x-med-days', report.medDays.map((d) => d.day).join(','))
          .header('x-excluded-med', String(report.excludedMed))
          .send(toCsvText(RELIABILITY_COLUMNS, report.rows));
      },
    );

    app.get(
      '/v1/reports/reliability/series',
      {
        preHandler: requireScope('requests:read'),
        schema: {
          tags: ['reports'],
          summary: 'SAIDI and SAIFI per grid or feeder per local month or day (each point = the reliability report of that bucket); the board draws it',
          querystring: ReliabilitySeriesQuery,
          response: { 200: ReliabilitySeries, ...errorResponses(400, 401, 403, 429) },
        },
      },
      async (request) => {
        refuseGridLimitedKey(request.principal!, 'the reliability series');
        return reportReliabilitySeries(deps.pool, deps.timeZone, request.query);
      },
    );

    app.get(
      '/v1/reports/response',
      {
        preHandler: requireScope('requests:read'),
        schema: {
          tags: ['reports'],
          summary:
            'Response per grid, per category or per grid and category: MTTA, MTTR (min), arrivals within the committed window, restorations by the ETR; 台区 with repeated outages. CSV with Accept: text/csv',
          querystring: ResponseQuery,
          response: { 200: z.union([ResponseReport, z.string().describe('text/csv: header row, one row per key')]), ...errorResponses(400, 401, 403, 429) },
        },
      },
      async (request, reply) => {
        refuseGridLimitedKey(request.principal!, 'the response report');
        const report = await reportResponse(deps.pool, request.query, { now: deps.now(), timeZone: deps.timeZone });
        if (!wantsCsv(request.headers.accept)) return report;
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="response-${report.groupBy}.csv"`)
          .header(
            'x-repeat-districts',
            report.repeatDistricts
              .slice(0, 100)
              .map((d) => `${encodeURIComponent(d.districtCode)}:${d.incidents}`)
              .join(','),
          )
          .send(report.groupBy === 'grid' ? toCsvText(RESPONSE_COLUMNS, report.rows) : toCsvText(RESPONSE_CATEGORY_COLUMNS, report.rows));
      },
    );
  };
}
