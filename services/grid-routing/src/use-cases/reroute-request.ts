import type { Pool } from 'pg';
import { RequestReceivedV1 } from '@griddispatch/contracts';
import { withTransaction } from '@griddispatch/db';
import { assign, resolveRequest, type RoutingContext } from './route-request.ts';
import { recordDispatches, timedDispatch } from './work-order-times.ts';

export type RerouteOutcome =
  | { status: 'not_found' }
  | { status: 'already_assigned'; gridId: string | null }
  | { status: 'still_unroutable'; reason: string }
  | { status: 'unknown_grid'; gridId: string }
  | { status: 'assigned'; gridId: string; resolvedBy: string; incidentId: string | null; eventId: string };

/**
 * Re-resolves a request that was unroutable, after an operator fixed the reference data. It reads
 * the request as stored when it arrived. People on duty are those on duty now (they are the ones
 * who can act); the SLA still counts from the original receipt, as promised to the customer.
 * Still unroutable → nothing is emitted (the earlier dispatch.unroutable stands) and the reason
 * is updated. With `gridId` the operator names the grid (resolvedBy `manual`).
 */
export async function rerouteRequest(ctx: RoutingContext, pool: Pool, requestId: string, options: { gridId?: string } = {}): Promise<RerouteOutcome> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ status: string; grid_id: string | null; request: unknown }>(
      'SELECT status, grid_id, request FROM routing.routed_requests WHERE request_id = $1 FOR UPDATE',
      [requestId],
    );
    const row = rows[0];
    if (!row) return { status: 'not_found' };
    if (row.status === 'assigned') return { status: 'already_assigned', gridId: row.grid_id };
    const request = RequestReceivedV1.parse(row.request);
    const data = await ctx.data.current(client);
    let resolution = await resolveRequest(client, data, request);
    if (options.gridId) {
      if (!data.directory.grids.has(options.gridId)) return { status: 'unknown_grid', gridId: options.gridId };
      const districtCode = resolution.ok && resolution.gridId === options.gridId ? resolution.districtCode : null;
      resolution = { ok: true, gridId: options.gridId, resolvedBy: 'manual', districtCode, registryClasses: resolution.registryClasses };
    }
    if (!resolution.ok) {
      await client.query('UPDATE routing.routed_requests SET reason = $2, updated_at = now() WHERE request_id = $1', [requestId, resolution.reason]);
      return { status: 'still_unroutable', reason: resolution.reason };
    }
    const { incidentId, role, event } = await assign(ctx, client, data, request, resolution, { dutyAt: ctx.now() });
    await client.query(
      `UPDATE routing.routed_requests SET status = 'assigned', grid_id = $2, incident_id = $3, role = $4, resolved_by = $5, reason = NULL, updated_at = now()
        WHERE request_id = $1`,
      [requestId, resolution.gridId, incidentId, role, resolution.resolvedBy],
    );
    const timed = timedDispatch(event);
    if (timed) await recordDispatches(client, [timed]);
    return { status: 'assigned', gridId: resolution.gridId, resolvedBy: resolution.resolvedBy, incidentId, eventId: event.id };
  });
}

export interface UnroutableItem {
  requestId: string;
  reason: string;
  routedAt: string;
  category: string;
}

/** Requests waiting for a data fix, oldest first, for operators. */
export async function listUnroutable(pool: Pool, limit: number): Promise<UnroutableItem[]> {
  const { rows } = await pool.query<{ request_id: string; reason: string | null; routed_at: Date; category: string }>(
    `SELECT request_id, reason, routed_at, request->>'category' AS category FROM routing.routed_requests
      WHERE status = 'unroutable' ORDER BY routed_at, request_id LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ requestId: r.request_id, reason: r.reason ?? '', routedAt: r.routed_at.toISOString(), category: r.category }));
}
