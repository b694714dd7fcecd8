import { and, desc, eq, inArray, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool } from 'pg';
import type { Category } from '@griddispatch/contracts';
import { BOARD_OPEN_STATUSES, toBoardItem, type BoardItem } from '../board/board-view.ts';
import { requests } from '../schema.ts';

export interface OpenWorkOrdersFilter {
  gridIds?: string[];
  category?: Category;
  limit: number;
}

/** The board's snapshot: open work orders, newest first (partial index requests_open_idx). */
export async function listOpenWorkOrders(pool: Pool, filter: OpenWorkOrdersFilter): Promise<{ items: BoardItem[]; truncated: boolean }> {
  const conditions: SQL[] = [inArray(requests.status, [...BOARD_OPEN_STATUSES])];
  if (filter.gridIds) conditions.push(inArray(requests.gridId, filter.gridIds));
  if (filter.category) conditions.push(eq(requests.category, filter.category));
  const rows = await drizzle(pool)
    .select()
    .from(requests)
    .where(and(...conditions))
    .orderBy(desc(requests.receivedAt), desc(requests.id))
    .limit(filter.limit + 1);
  return { items: rows.slice(0, filter.limit).map(toBoardItem), truncated: rows.length > filter.limit };
}
