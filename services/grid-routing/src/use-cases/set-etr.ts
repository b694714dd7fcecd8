import type { Pool } from 'pg';
import type { Incident, SetEtrBody } from '@griddispatch/contracts';
import { enqueueOutbox, withTransaction, type OutboxRecord } from '@griddispatch/db';
import { SCHEMA } from '../schema.ts';
import { IncidentBook } from './incident-book.ts';
import { isOpen } from './incident-row.ts';
import type { RoutingContext } from './routing-context.ts';

export type SetEtrOutcome = { status: 'not_found' } | { status: 'not_open'; incident: Incident } | { status: 'set'; incident: Incident };

/**
 * A dispatcher's ETR (`PUT /v1/incidents/:id/etr`): `etrSource: manual`, never overwritten by a
 * computed one (storm rescaling skips it); incident.updated, change `etr`. A restored or closed
 * incident keeps its last ETR.
 */
export async function setEtr(ctx: RoutingContext, pool: Pool, id: string, body: SetEtrBody): Promise<SetEtrOutcome> {
  return withTransaction(pool, async (client) => {
    const book = new IncidentBook(ctx, await ctx.data.current(client));
    await book.loadById(client, [id]);
    const row = book.get(id);
    if (!row) return { status: 'not_found' };
    if (!isOpen(row)) return { status: 'not_open', incident: book.incident(id)! };
    book.setManualEtr(row, new Date(body.etr));
    const outbox: OutboxRecord[] = [];
    await book.flush(client, outbox);
    await enqueueOutbox(client, SCHEMA, outbox);
    return { status: 'set', incident: book.incident(id)! };
  });
}
