import type { Pool } from 'pg';
import { z } from 'zod';
import { IncidentStatus, IsoDateTime, type Incident } from '@griddispatch/contracts';
import { HttpError } from '@griddispatch/http';
import { INCIDENT_COLUMNS, toIncident, type IncidentRow } from './incident-row.ts';

export const ListIncidentsQuery = z
  .object({
    status: IncidentStatus.optional(),
    gridId: z.string().trim().min(1).max(64).optional(),
    feederCode: z.string().trim().min(1).max(64).optional(),
    cursor: z.string().max(300).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
export type ListIncidentsQuery = z.output<typeof ListIncidentsQuery>;

const CursorShape = z.object({ o: IsoDateTime, i: z.string().min(1).max(100) });

function encodeCursor(row: IncidentRow): string {
  return Buffer.from(JSON.stringify({ o: row.opened_at.toISOString(), i: row.id })).toString('base64url');
}

function decodeCursor(text: string): z.infer<typeof CursorShape> {
  try {
    return CursorShape.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
  } catch {
    throw new HttpError(400, 'validation_failed', 'cursor: not a cursor this API returned', [{ in: 'querystring', path: 'cursor', message: 'invalid cursor' }]);
  }
}

const WITH_CHILDREN = `${INCIDENT_COLUMNS}, ARRAY(SELECT c.id FROM routing.incidents c WHERE c.parent_id = i.id ORDER BY c.id) AS child_ids`;

/**
 * Incidents, newest opened first, keyset pagination on (opened_at, id); only those of `visible`
 * grids when given (a key with allowed grids, visible-grids.ts).
 */
export async function listIncidents(
  pool: Pool,
  query: ListIncidentsQuery,
  visible: ReadonlySet<string> | null = null,
): Promise<{ items: Incident[]; nextCursor: string | null }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (n: number) => string, value: unknown) => {
    params.push(value);
    where.push(sql(params.length));
  };
  if (query.status) add((n) => `status = $${n}`, query.status);
  if (query.gridId) add((n) => `grid_id = $${n}`, query.gridId);
  if (query.feederCode) add((n) => `feeder_code = $${n}`, query.feederCode);
  if (visible) add((n) => `grid_id = ANY($${n}::text[])`, [...visible]);
  if (query.cursor) {
    const c = decodeCursor(query.cursor);
    params.push(new Date(c.o), c.i);
    where.push(`(opened_at, id) < ($${params.length - 1}::timestamptz, $${params.length})`);
  }
  params.push(query.limit + 1);
  const { rows } = await pool.query<IncidentRow & { child_ids: string[] }>(
    `SELECT ${WITH_CHILDREN} FROM routing.incidents i ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY opened_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return { items: page.map((row) => toIncident(row, row.child_ids)), nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
}
