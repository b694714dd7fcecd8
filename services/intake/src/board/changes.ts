import type { PoolClient } from 'pg';
import { EventTypes, type EventType } from '@griddispatch/contracts';

// How the dispatch board learns that a work order changed. Every transaction that changes a
// row the board shows also sends a NOTIFY on this channel; PostgreSQL delivers it only when (and
// if) the transaction commits, in commit order, to every intake replica — so a board connected
// to replica B sees a change that replica A's consumer applied.

export const BOARD_CHANNEL = 'intake_board';

/** What happened to the work order: the short name of the event behind it (`sla.breached`). */
export type BoardChange = (typeof EventTypes)[EventType]['short'];
const BOARD_CHANGES: readonly string[] = Object.values(EventTypes).map((t) => t.short);

export interface BoardNotice {
  /** A work order's id, or an incident's with `kind: 'incident'`. */
  id: string;
  change: BoardChange;
  /** What `id` names: a work order (absent) or an incident (intake.incidents, docs/architecture.md#incidents). */
  kind?: 'incident';
}

/** The NOTIFY payload (a few dozen bytes; listeners read the row itself). */
export function boardPayload(id: string, change: BoardChange, kind?: 'incident'): string {
  return JSON.stringify({ id, change, ...(kind ? { kind } : {}) } satisfies BoardNotice);
}

export function parseBoardPayload(payload: string | undefined): BoardNotice | null {
  try {
    const value = JSON.parse(payload ?? '') as Partial<BoardNotice>;
    if (typeof value.id !== 'string' || typeof value.change !== 'string' || !BOARD_CHANGES.includes(value.change)) return null;
    if (value.kind !== undefined && value.kind !== 'incident') return null;
    return { id: value.id, change: value.change!, ...(value.kind ? { kind: value.kind } : {}) };
  } catch {
    return null;
  }
}

/** Tells the boards, at commit, that these work orders or incidents changed (one statement for all). */
export async function notifyBoard(client: PoolClient, notices: BoardNotice[]): Promise<void> {
  if (notices.length === 0) return;
  await client.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [
    BOARD_CHANNEL,
    notices.map((n) => boardPayload(n.id, n.change, n.kind)),
  ]);
}
