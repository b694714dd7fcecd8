import { asc, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool } from 'pg';
import type { z } from 'zod';
import { isUuid, type RequestView } from '@griddispatch/contracts';
import { requests, timeline, type RequestRow, type TimelineRow } from '../schema.ts';
import type { RequestStatus } from '../domain/types.ts';
import { viewCallback } from './callbacks.ts';

export type RequestSummary = Omit<RequestView, 'timeline' | 'callback'>;
type Sla = z.infer<typeof RequestView>['sla'];

function slaView(row: RequestRow): Sla {
  const breaches = row.breaches.map(({ stage, deadline, level }) => ({ stage, deadline, level }));
  if (row.sla) return { policy: row.sla.policy, deadlines: row.sla.deadlines, breaches };
  // A breach reported before the routing result reached us still shows (with its policy).
  if (breaches.length > 0) return { policy: row.breaches[0]?.policy ?? 'unknown', deadlines: {}, breaches };
  return null;
}

/** The request's incident: its role and the incident's ETR count only while it is linked to one. */
export function incidentLink(row: RequestRow) {
  return {
    incidentId: row.incidentId,
    role: row.incidentId ? row.incidentRole : null,
    etr: row.incidentId ? (row.etr?.toISOString() ?? null) : null,
  };
}

export function toSummary(row: RequestRow): RequestSummary {
  return {
    id: row.id,
    source: row.source,
    externalId: row.externalId,
    category: row.category as RequestSummary['category'],
    status: row.status as RequestStatus,
    receivedAt: row.receivedAt.toISOString(),
    grid: row.grid,
    ...incidentLink(row),
    assignees: row.assignees,
    sla: slaView(row),
  };
}

function timelineView(rows: TimelineRow[]): RequestView['timeline'] {
  return rows.map((t) => ({
    at: t.at.toISOString(),
    type: t.type,
    ...(t.by !== null ? { by: t.by } : {}),
    ...(t.note !== null ? { note: t.note } : {}),
  }));
}

/** GET /v1/requests/:id — exactly the shape of docs/architecture.md#http-api (`view`); null for an unknown id. */
export async function viewRequest(pool: Pool, id: string): Promise<{ view: RequestView; row: RequestRow } | null> {
  if (!isUuid(id)) return null;
  const db = drizzle(pool);
  const [row] = await db.select().from(requests).where(eq(requests.id, id));
  if (!row) return null;
  const [entries, callback] = await Promise.all([
    db.select().from(timeline).where(eq(timeline.requestId, id)).orderBy(asc(timeline.at), asc(timeline.seq)),
    viewCallback(pool, id),
  ]);
  return { view: { ...toSummary(row), timeline: timelineView(entries), callback }, row };
}
