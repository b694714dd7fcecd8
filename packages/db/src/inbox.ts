import { schemaIdent } from './identifiers.ts';
import type { PoolClient } from './types.ts';

/**
 * Records that `consumer` applied `eventId`, on the caller's transaction. Returns false when it
 * was applied before: the caller then skips its effect. Because the mark commits or rolls back
 * together with the effect, a redelivered event is applied exactly once.
 */
export async function applyOnce(client: PoolClient, schema: string, consumer: string, eventId: string): Promise<boolean> {
  const result = await client.query(`INSERT INTO ${schemaIdent(schema)}.inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
    consumer,
    eventId,
  ]);
  return result.rowCount === 1;
}

/**
 * `applyOnce` for a batch, in one statement: returns the ids of `eventIds` that `consumer` had
 * not applied (an id repeated within the batch is returned once; apply its first occurrence).
 */
export async function claimEvents(client: PoolClient, schema: string, consumer: string, eventIds: string[]): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const result = await client.query<{ event_id: string }>(
    `INSERT INTO ${schemaIdent(schema)}.inbox (consumer, event_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING event_id`,
    [consumer, eventIds],
  );
  return new Set(result.rows.map((row) => row.event_id));
}
