import { schemaIdent } from './identifiers.ts';
import type { PoolClient } from './types.ts';

/**
 * Records that `consumer` applied `eventId`, on the caller's transaction. Returns false when it
 * was applied before: the caller then skips its effect. Because the mark commits or rolls back
 * together with the effect, a redelivered event is applied exactly once.
 */
export async function applyOnce(client: PoolClient, schema: string, consumer: string, eventId: string): Promise<boolean> {
  const result = await client.query(
    `INSERT INTO ${schemaIdent(schema)}.inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
    [consumer, eventId],
  );
  return result.rowCount === 1;
}
