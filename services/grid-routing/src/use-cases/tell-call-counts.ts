import type { Pool } from 'pg';
import { enqueueOutbox, withTransaction, type OutboxRecord } from '@griddispatch/db';
import type { Logger } from '@griddispatch/observability';
import { SCHEMA } from '../schema-migrations.ts';
import { IncidentBook } from './incident-book.ts';
import type { RoutingContext } from './routing-context.ts';

// Rule 8 (docs/architecture.md#incidents): a call that only adds to an incident's count is not
// told on incidents.events by itself — in a storm that was one record per call for the read model,
// notification and every subscriber. Every interval, the incidents whose count moved since their
// last record are told once (incident.updated, change `calls`), under their feeders' locks, so two
// replicas telling at once tell each count once.

/** Tells up to `limit` incidents' untold call counts in one transaction; answers how many were told. */
export async function tellCallCounts(ctx: RoutingContext, pool: Pool, limit = 500): Promise<number> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: string }>('SELECT id FROM routing.incidents WHERE calls_told <> call_count ORDER BY updated_at LIMIT $1', [
      limit,
    ]);
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
  let stopping = false;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const limit = 500;
  const cycle = async (): Promise<void> => {
    try {
      const told = await tellCallCounts(ctx, pool, limit);
      schedule(told >= limit ? 0 : intervalMs);
    } catch (err) {
      logger.warn({ err }, 'telling incident call counts failed; trying again next interval');
      schedule(intervalMs);
    }
  };
  function schedule(delay: number): void {
    if (stopping) return;
    timer = setTimeout(() => {
      running = cycle();
    }, delay);
    timer.unref();
  }
  schedule(intervalMs);
  return {
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await running;
    },
  };
}
