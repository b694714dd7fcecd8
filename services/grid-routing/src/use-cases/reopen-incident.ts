import type { PoolClient } from 'pg';
import { lockKey, openIncident } from './incidents.ts';
import { takeLocks } from './incident-store.ts';
import type { RoutingContext } from './routing-context.ts';

// A callback answered `still_out` (docs/architecture.md#callbacks-and-replies): the caller's 台区 is
// still without power after its incident was restored. A follow-up incident opens on that 台区
// with the original start time (openedAt = the restored incident's) and an ETR counted from now, like any incident without a
// call: intake opens its own work order and the crew is dispatched (rule 2). For the reports it
// continues the restored incident's interruption (migration 006): evidence_at = where that one
// ended, and no second customer interruption.

export type ReopenResult =
  | { status: 'opened'; incidentId: string }
  | { status: 'noop'; reason: 'unknown_incident' | 'not_restored' | 'no_district' | 'already_reopened' | 'already_open'; incidentId?: string };

interface Restored {
  id: string;
  kind: 'district' | 'feeder';
  status: string;
  district_code: string | null;
  opened_at: Date;
  interrupted_until: Date | null;
}

/** The caller's 台区: the incident's own, else (a feeder incident) the one the request was routed by. */
async function districtOf(client: PoolClient, incident: Restored, requestId: string): Promise<string | null> {
  if (incident.district_code) return incident.district_code;
  const { rows } = await client.query<{ district_code: string | null }>(
    `SELECT coalesce(r.request->'location'->>'districtCode', c.district_code) AS district_code
       FROM routing.routed_requests r LEFT JOIN routing.customers c ON c.account_no = r.request->'customer'->>'accountNo'
      WHERE r.request_id = $1`,
    [requestId],
  );
  return rows[0]?.district_code ?? null;
}

export async function reopenIncident(ctx: RoutingContext, client: PoolClient, input: { incidentId: string; requestId: string }): Promise<ReopenResult> {
  const { rows } = await client.query<Restored>('SELECT id, kind, status, district_code, opened_at, interrupted_until FROM routing.incidents WHERE id = $1', [
    input.incidentId,
  ]);
  const restored = rows[0];
  if (!restored) return { status: 'noop', reason: 'unknown_incident' };
  if (!restored.interrupted_until) return { status: 'noop', reason: 'not_restored', incidentId: restored.id };
  const districtCode = await districtOf(client, restored, input.requestId);
  const data = await ctx.data.current(client);
  const district = districtCode ? data.districts.get(districtCode) : undefined;
  if (!districtCode || !district) return { status: 'noop', reason: 'no_district', incidentId: restored.id };
  // The feeder's lock first (as IncidentBook takes it), so two callers' `still_out` open one follow-up.
  await takeLocks(client, [lockKey(district.feederCode, districtCode)], true);
  const { rows: seen } = await client.query<{ id: string }>('SELECT id FROM routing.incidents WHERE reopened_from = $1 AND district_code = $2', [
    restored.id,
    districtCode,
  ]);
  if (seen[0]) return { status: 'noop', reason: 'already_reopened', incidentId: seen[0].id };
  const { rows: open } = await client.query<{ id: string }>(
    "SELECT id FROM routing.incidents WHERE district_code = $1 AND kind = 'district' AND status NOT IN ('restored', 'closed')",
    [districtCode],
  );
  // Someone called again, or the meters reported it: the 台区 is in an open incident already.
  if (open[0]) return { status: 'noop', reason: 'already_open', incidentId: open[0].id };
  // An open feeder incident the follow-up nests under (rule 4) must not take the original start as
  // evidence: its interruption would then cover the restored incident's minutes again.
  const { rows: feeder } = await client.query<{ id: string; evidence_at: Date }>(
    "SELECT id, evidence_at FROM routing.incidents WHERE feeder_code = $1 AND kind = 'feeder' AND status NOT IN ('restored', 'closed')",
    [district.feederCode],
  );
  const incident = await openIncident(ctx, client, { districtCode, gridId: district.gridId, origin: 'call', at: restored.opened_at, etrFrom: ctx.now() });
  await client.query('UPDATE routing.incidents SET reopened_from = $2, evidence_at = $3 WHERE id = $1', [incident.id, restored.id, restored.interrupted_until]);
  if (feeder[0] && incident.parentId === feeder[0].id) {
    await client.query('UPDATE routing.incidents SET evidence_at = $2 WHERE id = $1', [feeder[0].id, feeder[0].evidence_at]);
  }
  return { status: 'opened', incidentId: incident.id };
}
