import type { Pool } from 'pg';
import type { Category } from '@griddispatch/contracts';
import { BOARD_OPEN_STATUSES, toBoardItem, type BoardItem } from '../board/board-view.ts';
import { listRequestRows } from './list-requests.ts';

export interface OpenWorkOrdersFilter {
  gridIds?: string[];
  category?: Category;
  limit: number;
}

/** The board's snapshot: open work orders, newest first (partial index requests_open_idx). */
export async function listOpenWorkOrders(pool: Pool, filter: OpenWorkOrdersFilter): Promise<{ items: BoardItem[]; truncated: boolean }> {
  const { rows, nextCursor } = await listRequestRows(pool, { ...filter, statuses: [...BOARD_OPEN_STATUSES] });
  return { items: rows.map(toBoardItem), truncated: nextCursor !== null };
}
