import type { Pool } from 'pg';
import { enqueueOutbox, startPeriodic, withTransaction, type OutboxRecord } from '@griddispatch/db';
import type { Logger } from '@griddispatch/observability';
import { SCHEMA } from '../schema.ts';
import { IncidentBook } from './incident-book.ts';
import { OPEN_SQL } from './incident-row.ts';
import type { RoutingContext } from './routing-context.ts';

// Rule 8 (docs/architecture.md#incidents): a call that only adds to an incident's count is not
// told on incidents.events by itself — in a storm that was one record per call for the read model,
// notification and every subscriber. Every interval, the incidents whose count moved since their
// last record are told once (incident.updated, change `calls`), under their feeders' locks, so two
// replicas telling at once tell each count once.

/** Tells up to `limit` incidents' untold call counts in one transaction; answers how many were told. */
export async function tellCallCounts(ctx: RoutingContext, pool: Pool, limit = 500): Promise<number> {
  return withTransaction(pool, async (client) => {
    // Only an open incident takes calls (the event that restores or closes one tells its count).
    const { rows } = await client.query<{ id: string }>(
      `SELECT id FROM routing.incidents WHERE ${OPEN_SQL} AND calls_told <> call_count ORDER BY updated_at LIMIT $1`,
      [limit],
    );
    if (rows.length === 0) return 0;
    const book = new IncidentBook(ctx, await ctx.data.current(client));
    await book.loadById(
      client,
      rows.map((r) => r.id),
    );
    for (const { id } of rows) {
      const row = book.get(id);
      if (row) book.tellCalls(row);
    }
    const outbox: OutboxRecord[] = [];
    await book.flush(client, outbox);
    await enqueueOutbox(client, SCHEMA, outbox);
    return outbox.length;
  });
}

export interface CallCountTeller {
  stop(): Promise<void>;
}

/** Runs `tellCallCounts` every `intervalMs` (again at once while a cycle fills its limit). */
export function startCallCountTeller(ctx: RoutingContext, pool: Pool, intervalMs: number, logger: Logger): CallCountTeller {
  const limit = 500;
  return startPeriodic({
    label: 'telling incident call counts',
    run: () => tellCallCounts(ctx, pool, limit),
    again: (told) => told >= limit,
    intervalMs,
    logger,
  });
}
