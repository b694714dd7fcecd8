import type { PoolClient } from 'pg';
import type { PlannedOutage } from '@griddispatch/contracts';
import type { Notice } from './tell-customers.ts';

// Planned outages' customers (计划停电通知), docs/architecture.md#telling-the-customers: told when
// the outage is announced and again 24 h before it starts (a delivery row due then in
// notification: the durable timer), and told of a move or a cancellation, which also drops the
// reminder not yet sent. routing.planned_outage_notices remembers the window last told.

export const REMINDER_BEFORE_MS = 24 * 3_600_000;

/** Every pending reminder of the outage: a change or a cancellation drops them before anything else. */
const REMINDERS = 'reminder:';

interface Told {
  told_start: Date;
  told_end: Date;
  version: number;
  cancelled_at: Date | null;
}

export async function noticesForPlannedOutage(client: PoolClient, outage: PlannedOutage, now: Date): Promise<Notice[]> {
  const start = new Date(outage.start);
  const end = new Date(outage.end);
  const base = { subjectId: outage.id, subjectKind: 'planned_outage' as const, districtCodes: outage.districtCodes, start, end, reason: outage.reason };
  const { rows } = await client.query<Told>(
    'SELECT told_start, told_end, version, cancelled_at FROM routing.planned_outage_notices WHERE outage_id = $1 FOR UPDATE',
    [outage.id],
  );
  const told = rows[0];
  if (outage.status === 'cancelled') {
    if (!told || told.cancelled_at) return [];
    await client.query('UPDATE routing.planned_outage_notices SET cancelled_at = $2 WHERE outage_id = $1', [outage.id, now]);
    return [{ ...base, kind: 'planned.cancelled', stage: 'cancelled', supersedes: REMINDERS }];
  }
  if (!told) {
    await client.query('INSERT INTO routing.planned_outage_notices (outage_id, told_start, told_end) VALUES ($1, $2, $3)', [outage.id, start, end]);
    return [{ ...base, kind: 'planned.announced', stage: 'announced' }, ...reminder(base, 1, now)];
  }
  if (told.cancelled_at || (told.told_start.getTime() === start.getTime() && told.told_end.getTime() === end.getTime())) return [];
  const version = told.version + 1;
  await client.query('UPDATE routing.planned_outage_notices SET told_start = $2, told_end = $3, version = $4 WHERE outage_id = $1', [
    outage.id,
    start,
    end,
    version,
  ]);
  return [{ ...base, kind: 'planned.changed', stage: `changed:v${version}`, supersedes: REMINDERS }, ...reminder(base, version, now)];
}

/** The 24-hour reminder, unless that moment has passed (the announcement just told them). */
function reminder(base: Omit<Notice, 'kind' | 'stage'> & { start: Date }, version: number, now: Date): Notice[] {
  const at = new Date(base.start.getTime() - REMINDER_BEFORE_MS);
  if (at.getTime() <= now.getTime()) return [];
  return [{ ...base, kind: 'planned.reminder', stage: `reminder:v${version}`, sendAt: at }];
}
