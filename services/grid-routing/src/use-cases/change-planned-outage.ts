import type { Pool, PoolClient } from 'pg';
import type { MovePlannedOutageBody, PlannedOutage } from '@griddispatch/contracts';
import { withTransaction } from '@griddispatch/db';
import type { GridRoutingConfig } from '../config.ts';
import { announce, COLUMNS, view, type OutageRow } from './plan-outage.ts';

// Moving or cancelling a planned outage (docs/architecture.md#incidents rule 7): only before it
// starts. Its incident is opened by the first call inside the window, so an outage that has not
// started has none to follow; one that has started is over or under way and is not rewritten.
// Each change is announced on outages.planned (same outbox transaction), from which grid-routing
// tells the customers of the correction and notification drops the reminder not yet sent.

export type ChangeOutcome =
  | { status: 'changed'; outage: PlannedOutage }
  | { status: 'unchanged'; outage: PlannedOutage }
  | { status: 'not_found' }
  | { status: 'cancelled' }
  | { status: 'started'; start: string }
  | { status: 'invalid_window'; message: string }
  | { status: 'short_notice'; requiredMs: number; noticeMs: number }
  | { status: 'overlap'; outageId: string; districtCode: string };

async function lockOutage(client: PoolClient, id: string): Promise<OutageRow | undefined> {
  const { rows } = await client.query<OutageRow>(`SELECT ${COLUMNS} FROM routing.planned_outages WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0];
}

/** The reasons an outage can no longer change; null when it still can. */
function frozen(row: OutageRow | undefined, now: Date): ChangeOutcome | null {
  if (!row) return { status: 'not_found' };
  if (row.status === 'cancelled') return { status: 'cancelled' };
  if (row.starts_at.getTime() <= now.getTime()) return { status: 'started', start: row.starts_at.toISOString() };
  return null;
}

export async function cancelPlannedOutage(pool: Pool, id: string, now: Date): Promise<ChangeOutcome> {
  return withTransaction(pool, async (client) => {
    const row = await lockOutage(client, id);
    const refused = frozen(row, now);
    if (refused) return refused;
    const { rows } = await client.query<OutageRow>(`UPDATE routing.planned_outages SET status = 'cancelled' WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
    const outage = view(rows[0] as OutageRow);
    await announce(client, outage, now);
    return { status: 'changed', outage };
  });
}

/**
 * A new window (and reason) for an outage that has not started. Moving it later is always
 * allowed (more notice); moving it earlier must keep the kind's minimum notice. The window may
 * not overlap another scheduled outage of its 台区.
 */
export async function movePlannedOutage(config: GridRoutingConfig, pool: Pool, id: string, body: MovePlannedOutageBody, now: Date): Promise<ChangeOutcome> {
  const start = new Date(body.start);
  const end = new Date(body.end);
  return withTransaction(pool, async (client) => {
    const row = await lockOutage(client, id);
    const refused = frozen(row, now);
    if (refused || !row) return refused ?? { status: 'not_found' };
    if (end.getTime() <= start.getTime()) return { status: 'invalid_window', message: 'end must be after start' };
    if (start.getTime() <= now.getTime()) return { status: 'invalid_window', message: 'start must be in the future' };
    const reason = body.reason ?? row.reason;
    if (start.getTime() === row.starts_at.getTime() && end.getTime() === row.ends_at.getTime() && reason === row.reason)
      return { status: 'unchanged', outage: view(row) };
    if (start.getTime() < row.starts_at.getTime()) {
      const requiredMs = row.kind === 'planned' ? config.plannedNoticeMs : config.temporaryNoticeMs;
      const noticeMs = start.getTime() - now.getTime();
      if (noticeMs < requiredMs) return { status: 'short_notice', requiredMs, noticeMs };
    }
    // Same lock order as creation: 台区 sorted, so a creation and a move cannot both pass the overlap check.
    await client.query(
      "SELECT pg_advisory_xact_lock(hashtextextended('routing.planned:' || d, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS t(d, n) ORDER BY n",
      [row.district_codes],
    );
    const overlap = await client.query<{ outage_id: string; district_code: string }>(
      `SELECT pd.outage_id, pd.district_code FROM routing.planned_outage_districts pd
         JOIN routing.planned_outages o ON o.id = pd.outage_id AND o.status = 'scheduled'
        WHERE pd.district_code = ANY($1::text[]) AND pd.outage_id <> $4 AND pd.starts_at < $3 AND pd.ends_at > $2
        ORDER BY pd.district_code LIMIT 1`,
      [row.district_codes, start, end, id],
    );
    const clash = overlap.rows[0];
    if (clash) return { status: 'overlap', outageId: clash.outage_id, districtCode: clash.district_code };
    const { rows } = await client.query<OutageRow>(
      `UPDATE routing.planned_outages SET starts_at = $2, ends_at = $3, reason = $4 WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, start, end, reason],
    );
    await client.query('UPDATE routing.planned_outage_districts SET starts_at = $2, ends_at = $3 WHERE outage_id = $1', [id, start, end]);
    const outage = view(rows[0] as OutageRow);
    await announce(client, outage, now);
    return { status: 'changed', outage };
  });
}
