import { PassThrough } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Category } from '@griddispatch/contracts';
import { HttpError, requireScope } from '@griddispatch/http';
import { BoardItem } from '../board/board-view.ts';
import { BoardIncident } from '../board/incident-view.ts';
import type { BoardEvent, BoardHub } from '../board/hub.ts';
import { chartJsScript, renderBoardPage, renderReportsPage, type BoardPage } from '../board/page.ts';
import { StreamLimit } from '../board/stream-limit.ts';
import type { IntakeContext } from '../context.ts';
import { listOpenIncidents } from '../use-cases/list-open-incidents.ts';
import { listOpenWorkOrders } from '../use-cases/list-open-work-orders.ts';
import { gridFilter, visibleGrids } from '../use-cases/visible-grids.ts';
import { errorResponses } from './errors.ts';

export interface BoardRoutesDeps {
  ctx: IntakeContext;
  hub: BoardHub;
  /** GD_GRIDS_URL: where the page fetches grid outlines (and, next to them, the reports). */
  gridsUrl: string;
  /** GD_TIME_ZONE: the reports page asks for whole local months. */
  timeZone: string;
  /** Comment line on idle streams, so proxies and browsers keep them open. Default 15 s. */
  heartbeatMs?: number;
  /** Open streams per API key on this replica (GD_STREAMS_PER_KEY). Default 10. */
  streamsPerKey?: number;
}

/** A client that reads slower than this is dropped; it reconnects and resumes or reloads. */
const MAX_BUFFERED_BYTES = 1 << 20;

const GridIds = z
  .string()
  .max(8000)
  .transform((s) =>
    s
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().min(1).max(64)).min(1).max(500))
  .describe('grid id, or several separated by commas');

const BoardFilterQuery = z.object({ gridId: GridIds.optional(), category: Category.optional() });

const SnapshotQuery = BoardFilterQuery.extend({ limit: z.coerce.number().int().min(1).max(5000).default(1000) }).strict();

const IncidentsQuery = z.object({ gridId: GridIds.optional(), limit: z.coerce.number().int().min(1).max(2000).default(500) }).strict();

const StreamQuery = BoardFilterQuery.extend({
  /** For EventSource, which cannot send an Authorization header: a stream token (POST /v1/stream-tokens), never an API key. */
  token: z.string().max(300).optional(),
  /** Same as the Last-Event-ID header (which takes precedence). */
  lastEventId: z.string().max(64).optional(),
}).strict();

function frame(fields: { id?: string; event: string; data: unknown }): string {
  // JSON.stringify never emits a raw newline, so the data fits one `data:` line.
  return `${fields.id ? `id: ${fields.id}\n` : ''}event: ${fields.event}\ndata: ${JSON.stringify(fields.data)}\n\n`;
}

/** GET /board (the page), its snapshot and its event stream (SSE). */
export function boardRoutes(deps: BoardRoutesDeps): FastifyPluginAsync {
  const page = renderBoardPage({ gridsUrl: deps.gridsUrl });
  const reportsPage = renderReportsPage({ gridsUrl: deps.gridsUrl, timeZone: deps.timeZone });
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  const streamLimit = new StreamLimit(deps.streamsPerKey ?? 10);
  return async (fastify) => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const openStreams = new Set<() => void>();
    // An open stream is an active response: without this, closing the host would wait for
    // every board to go away.
    fastify.addHook('preClose', async () => {
      for (const end of [...openStreams]) end();
    });

    // The page holds no data (everything comes from the authenticated API calls it makes), so
    // it is served without a key; the key arrives as /board#key=… and stays in the browser.
    const sendPage = (p: BoardPage) => (_request: unknown, reply: FastifyReply) =>
      reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', p.csp)
        .header('referrer-policy', 'no-referrer')
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-store')
        .send(p.html);
    app.get('/board', { schema: { hide: true } }, sendPage(page));
    // The reports page: charts of grid-routing's reports, with the same key handling.
    app.get('/board/reports', { schema: { hide: true } }, sendPage(reportsPage));
    app.get('/board/vendor/chart.umd.min.js', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .header('content-type', 'text/javascript; charset=utf-8')
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'public, max-age=86400')
        .send(chartJsScript().body),
    );

    app.get(
      '/v1/board/work-orders',
      {
        preHandler: requireScope('requests:read'),
        schema: {
          summary: 'Open work orders for the dispatch board',
          description:
            'Work orders not yet resolved, closed or cancelled, newest first, each with its next SLA deadline and state ' +
            '(ok / warning / breached). The board loads this once, then follows GET /v1/events/stream.',
          tags: ['board'],
          querystring: SnapshotQuery,
          response: {
            200: z.object({ items: z.array(BoardItem), truncated: z.boolean(), serverTime: z.string() }),
            ...errorResponses(400, 401, 403, 429),
          },
        },
      },
      async (request) => {
        const { gridId, category, limit } = request.query;
        const gridIds = gridFilter(await visibleGrids(deps.ctx.pool, request.principal!), gridId, request.principal!.keyName);
        const { items, truncated } = await listOpenWorkOrders(deps.ctx.pool, { gridIds, category, limit });
        return { items, truncated, serverTime: deps.ctx.now().toISOString() };
      },
    );

    app.get(
      '/v1/board/incidents',
      {
        preHandler: requireScope('requests:read'),
        schema: {
          summary: 'Open incidents for the dispatch board',
          description:
            'Incidents not yet restored (docs/architecture.md#incidents), newest first: size (callCount, affectedCustomers), status, ETR, and ' +
            "nesting (parentId, childIds). intake's copy of grid-routing's incidents, from incidents.events. The board loads " +
            'this once, then follows `event: incident` on GET /v1/events/stream.',
          tags: ['board'],
          querystring: IncidentsQuery,
          response: {
            200: z.object({ items: z.array(BoardIncident), truncated: z.boolean(), serverTime: z.string() }),
            ...errorResponses(400, 401, 403, 429),
          },
        },
      },
      async (request) => {
        const { gridId, limit } = request.query;
        const gridIds = gridFilter(await visibleGrids(deps.ctx.pool, request.principal!), gridId, request.principal!.keyName);
        const { items, truncated } = await listOpenIncidents(deps.ctx.pool, { gridIds, limit });
        return { items, truncated, serverTime: deps.ctx.now().toISOString() };
      },
    );

    app.get(
      '/v1/events/stream',
      {
        preHandler: requireScope('requests:read', { streamToken: 'token' }),
        schema: {
          summary: 'Live work-order updates (Server-Sent Events)',
          description:
            'text/event-stream. First `event: hello` ({streamId, resumed, serverTime}); then one `event: workorder` per change ' +
            '({changes, workOrder}) and one `event: incident` per incident change ({changes, incident}), each with an `id:` ' +
            'for Last-Event-ID resume; `event: reset` when updates were lost (reload the ' +
            'snapshot); a `: heartbeat` comment every 15 s. Filters: gridId (comma-separated), category. Auth: Bearer, or ' +
            '?token= with a stream token from POST /v1/stream-tokens (never an API key). Format in services/intake/README.md.',
          tags: ['board'],
          querystring: StreamQuery,
          // 200 is a stream (described above); errors are the usual JSON bodies (400, 401, 403, 429).
        },
      },
      async (request, reply) => {
        // Checked before a stream is taken: a refused filter holds no place. A key with grids
        // follows the grids under its area grids as known when the stream opens.
        const gridIds = gridFilter(await visibleGrids(deps.ctx.pool, request.principal!), request.query.gridId, request.principal!.keyName);
        const acquired = streamLimit.acquire(request.principal!.keyName);
        if (!acquired) {
          throw new HttpError(
            429,
            'too_many_streams',
            `API key "${request.principal!.keyName}" already has ${streamLimit.maxPerKey} event streams open; close one first`,
            {
              max: streamLimit.maxPerKey,
            },
          );
        }
        const release: () => void = acquired;
        const { category } = request.query;
        const header = request.headers['last-event-id'];
        const lastEventId = (typeof header === 'string' && header.length <= 64 ? header : undefined) ?? request.query.lastEventId;
        const stream = new PassThrough();
        let ended = false;
        const write = (text: string) => {
          if (ended) return;
          if (stream.writableLength > MAX_BUFFERED_BYTES) {
            deps.ctx.logger.warn({ reqId: request.id }, 'board stream: client reads too slowly; dropped');
            end();
            return;
          }
          stream.write(text);
        };
        const deliver = (event: BoardEvent) =>
          write(
            event.incident
              ? frame({ id: event.id, event: 'incident', data: { changes: event.changes, incident: event.incident } })
              : frame({ id: event.id, event: 'workorder', data: { changes: event.changes, workOrder: event.workOrder } }),
          );
        let subscription: ReturnType<BoardHub['subscribe']>;
        try {
          subscription = deps.hub.subscribe(
            {
              filter: { ...(gridIds ? { gridIds: new Set(gridIds) } : {}), ...(category ? { category } : {}) },
              deliver,
              reset: (reason) => write(frame({ event: 'reset', data: { reason } })),
              close: () => end(),
            },
            lastEventId,
          );
        } catch (err) {
          release();
          throw err;
        }
        const heartbeat = setInterval(() => write(`: heartbeat ${new Date().toISOString()}\n\n`), heartbeatMs);
        function end() {
          if (ended) return;
          ended = true;
          release();
          clearInterval(heartbeat);
          subscription.unsubscribe();
          openStreams.delete(end);
          stream.end();
        }
        openStreams.add(end);
        reply.raw.once('close', end);

        write('retry: 3000\n\n');
        write(frame({ event: 'hello', data: { streamId: deps.hub.streamId, resumed: subscription.resumed, serverTime: deps.ctx.now().toISOString() } }));
        for (const event of subscription.replay) deliver(event);
        return reply
          .header('content-type', 'text/event-stream; charset=utf-8')
          .header('cache-control', 'no-cache, no-transform')
          .header('x-accel-buffering', 'no')
          .send(stream);
      },
    );
  };
}
