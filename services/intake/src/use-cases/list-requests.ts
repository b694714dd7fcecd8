import { and, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool } from 'pg';
import { z } from 'zod';
import { Category, IsoDateTime, RequestStatus } from '@griddispatch/contracts';
import { HttpError } from '@griddispatch/http';
import { requests, type RequestRow } from '../schema.ts';
import { toSummary, type RequestSummary } from './view-request.ts';

export const ListRequestsQuery = z
  .object({
    status: RequestStatus.optional(),
    gridId: z.string().trim().min(1).max(64).optional(),
    category: Category.optional(),
    breached: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    /** received at or after */
    from: IsoDateTime.optional(),
    /** received before */
    to: IsoDateTime.optional(),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
export type ListRequestsQuery = z.output<typeof ListRequestsQuery>;

export interface ListFilter {
  statuses?: RequestStatus[];
  /** Requests routed to one of these grids (the query's gridId, or a key's visible grids). */
  gridIds?: string[];
  category?: Category;
  breached?: boolean;
  from?: string;
  to?: string;
  /** Explicit ids (Open311 `service_request_id=a,b`). */
  ids?: string[];
  cursor?: string;
  limit: number;
}

interface Cursor {
  r: string;
  i: string;
}

const CursorShape = z.object({ r: IsoDateTime, i: z.uuid() });

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    return CursorShape.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
  } catch {
    throw new HttpError(400, 'validation_failed', 'cursor: not a cursor this API returned', [{ in: 'querystring', path: 'cursor', message: 'invalid cursor' }]);
  }
}

/** Operators' list: newest first, keyset pagination on (received_at, id). */
export async function listRequests(pool: Pool, filter: ListFilter): Promise<{ items: RequestSummary[]; nextCursor: string | null }> {
  const { rows, nextCursor } = await listRequestRows(pool, filter);
  return { items: rows.map(toSummary), nextCursor };
}

export async function listRequestRows(pool: Pool, filter: ListFilter): Promise<{ rows: RequestRow[]; nextCursor: string | null }> {
  const conditions: SQL[] = [];
  if (filter.statuses && filter.statuses.length > 0) conditions.push(inArray(requests.status, filter.statuses));
  if (filter.gridIds) conditions.push(filter.gridIds.length === 1 ? eq(requests.gridId, filter.gridIds[0]!) : inArray(requests.gridId, filter.gridIds));
  if (filter.category) conditions.push(eq(requests.category, filter.category));
  if (filter.breached !== undefined) conditions.push(eq(requests.breached, filter.breached));
  if (filter.from) conditions.push(gte(requests.receivedAt, new Date(filter.from)));
  if (filter.to) conditions.push(lt(requests.receivedAt, new Date(filter.to)));
  if (filter.ids) conditions.push(inArray(requests.id, filter.ids));
  if (filter.cursor) {
    const c = decodeCursor(filter.cursor);
    conditions.push(sql`(${requests.receivedAt}, ${requests.id}) < (${new Date(c.r)}, ${c.i}::uuid)`);
  }
  const rows = await drizzle(pool)
    .select()
    .from(requests)
    .where(and(...conditions))
    .orderBy(desc(requests.receivedAt), desc(requests.id))
    .limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > filter.limit && last ? encodeCursor({ r: last.receivedAt.toISOString(), i: last.id }) : null;
  return { rows: page, nextCursor };
}
