import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { buildEvent, Topics, type CreatePlannedOutageBody, type PlannedOutage } from '@griddispatch/contracts';
import { enqueueOutbox, eventRecord, withTransaction } from '@griddispatch/db';
import type { GridRoutingConfig } from '../config.ts';
import { PLANNED_GRACE_MS } from './incident-book.ts';
import type { PlannedOutageLookup, PlannedWindow } from './routing-context.ts';
import { SCHEMA } from '../schema.ts';

// Planned (计划停电) and temporary (临时停电) outages, docs/architecture.md#incidents rule 7: stored here, announced on
// `outages.planned` (outbox, key: the outage id). Calls from its 台区 inside [start, end + grace]
// join the outage's incident instead of dispatching a crew (plannedOutagesFor below, the incident book's hook).

export type CreateOutcome =
  | { status: 'created' | 'existing'; outage: PlannedOutage }
  | { status: 'conflict'; id: string }
  | { status: 'short_notice'; requiredMs: number; noticeMs: number }
  | { status: 'unknown_districts'; codes: string[] }
  | { status: 'unknown_feeder'; feederCode: string }
  | { status: 'overlap'; outageId: string; districtCode: string };

export interface OutageRow {
  id: string;
  external_id: string;
  kind: PlannedOutage['kind'];
  status: PlannedOutage['status'];
  district_codes: string[];
  feeder_code: string | null;
  starts_at: Date;
  ends_at: Date;
  reason: string;
  created_at: Date;
}

export const COLUMNS = 'id, external_id, kind, status, district_codes, feeder_code, starts_at, ends_at, reason, created_at';

export function view(row: OutageRow): PlannedOutage {
  return {
    id: row.id,
    externalId: row.external_id,
    kind: row.kind,
    status: row.status,
    districtCodes: row.district_codes,
    feederCode: row.feeder_code,
    start: row.starts_at.toISOString(),
    end: row.ends_at.toISOString(),
    reason: row.reason,
    createdAt: row.created_at.toISOString(),
  };
}

/** The body as stored for the idempotency comparison: instants normalised, 台区 in order. */
function canonical(body: CreatePlannedOutageBody): Record<string, unknown> {
  return {
    externalId: body.externalId,
    kind: body.kind,
    districtCodes: body.districtCodes ? [...new Set(body.districtCodes)].sort() : null,
    feederCode: body.feederCode ?? null,
    start: new Date(body.start).toISOString(),
    end: new Date(body.end).toISOString(),
    reason: body.reason,
  };
}

/**
 * Creates an outage, or answers the one created before under the same externalId when the body
 * is the same (a retry, even after its notice has run out); another body under that key is a
 * conflict. The 台区 are locked in sorted order, so two outages posted at once on one 台区 cannot
 * both pass the overlap check.
 */
export async function createPlannedOutage(config: GridRoutingConfig, pool: Pool, body: CreatePlannedOutageBody, now: Date): Promise<CreateOutcome> {
  const wanted = canonical(body);
  return withTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('routing.planned-outage:' || $1, 0))", [body.externalId]);
    const before = await client.query<OutageRow & { same: boolean }>(
      `SELECT ${COLUMNS}, body = $2::jsonb AS same FROM routing.planned_outages WHERE external_id = $1`,
      [body.externalId, JSON.stringify(wanted)],
    );
    const existing = before.rows[0];
    if (existing) return existing.same ? { status: 'existing', outage: view(existing) } : { status: 'conflict', id: existing.id };

    const start = new Date(body.start);
    const end = new Date(body.end);
    const requiredMs = body.kind === 'planned' ? config.plannedNoticeMs : config.temporaryNoticeMs;
    const noticeMs = start.getTime() - now.getTime();
    if (noticeMs < requiredMs) return { status: 'short_notice', requiredMs, noticeMs };

    let districts: string[];
    if (body.feederCode) {
      const { rows } = await client.query<{ code: string }>('SELECT code FROM routing.districts WHERE feeder_code = $1 ORDER BY code', [body.feederCode]);
      if (rows.length === 0) return { status: 'unknown_feeder', feederCode: body.feederCode };
      districts = rows.map((r) => r.code);
    } else {
      districts = wanted.districtCodes as string[];
      const { rows } = await client.query<{ code: string }>('SELECT code FROM routing.districts WHERE code = ANY($1::text[])', [districts]);
      const known = new Set(rows.map((r) => r.code));
      const unknown = districts.filter((d) => !known.has(d));
      if (unknown.length > 0) return { status: 'unknown_districts', codes: unknown };
    }

    await client.query(
      "SELECT pg_advisory_xact_lock(hashtextextended('routing.planned:' || d, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS t(d, n) ORDER BY n",
      [districts],
    );
    const overlap = await client.query<{ outage_id: string; district_code: string }>(
      `SELECT pd.outage_id, pd.district_code FROM routing.planned_outage_districts pd
         JOIN routing.planned_outages o ON o.id = pd.outage_id AND o.status = 'scheduled'
        WHERE pd.district_code = ANY($1::text[]) AND pd.starts_at < $3 AND pd.ends_at > $2
        ORDER BY pd.district_code LIMIT 1`,
      [districts, start, end],
    );
    const clash = overlap.rows[0];
    if (clash) return { status: 'overlap', outageId: clash.outage_id, districtCode: clash.district_code };

    const id = randomUUID();
    const { rows } = await client.query<OutageRow>(
      `INSERT INTO routing.planned_outages (id, external_id, kind, district_codes, feeder_code, starts_at, ends_at, reason, body, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
      [id, body.externalId, body.kind, districts, body.feederCode ?? null, start, end, body.reason, JSON.stringify(wanted), now],
    );
    await client.query(
      `INSERT INTO routing.planned_outage_districts (outage_id, district_code, starts_at, ends_at)
       SELECT $1, d, $3, $4 FROM unnest($2::text[]) AS d`,
      [id, districts, start, end],
    );
    const outage = view(rows[0] as OutageRow);
    await announce(client, outage, now);
    return { status: 'created', outage };
  });
}

export async function announce(client: PoolClient, outage: PlannedOutage, now: Date): Promise<void> {
  const event = buildEvent({ type: 'cn.griddispatch.outage.planned.v1', source: 'grid-routing', subject: outage.id, data: outage, time: now });
  await enqueueOutbox(client, SCHEMA, [eventRecord(Topics.outagesPlanned, outage.id, event)]);
}

export interface OutageQuery {
  districtCode?: string | undefined;
  feederCode?: string | undefined;
  /** Outages that end at or after this instant (default: all). */
  from?: Date | undefined;
  limit: number;
}

export async function listPlannedOutages(pool: Pool, query: OutageQuery): Promise<PlannedOutage[]> {
  const { rows } = await pool.query<OutageRow>(
    `SELECT ${COLUMNS} FROM routing.planned_outages
      WHERE ($1::text IS NULL OR $1 = ANY(district_codes)) AND ($2::text IS NULL OR feeder_code = $2) AND ($3::timestamptz IS NULL OR ends_at >= $3)
      ORDER BY starts_at, id LIMIT $4`,
    [query.districtCode ?? null, query.feederCode ?? null, query.from ?? null, query.limit],
  );
  return rows.map(view);
}

/**
 * Rule 7's look-up (RoutingContext.plannedOutages), asked once per routed batch by the incident
 * book: the scheduled outages of these 台区 whose window [start, end + 15 min] meets [from, to].
 */
export const plannedOutagesFor: PlannedOutageLookup = async (client, districtCodes, from, to): Promise<PlannedWindow[]> => {
  if (districtCodes.length === 0) return [];
  const { rows } = await client.query<{ outage_id: string; district_code: string; starts_at: Date; ends_at: Date }>(
    `SELECT pd.outage_id, pd.district_code, pd.starts_at, pd.ends_at FROM routing.planned_outage_districts pd
       JOIN routing.planned_outages o ON o.id = pd.outage_id AND o.status = 'scheduled'
      WHERE pd.district_code = ANY($1::text[]) AND pd.starts_at <= $3 AND pd.ends_at + $4 * interval '1 millisecond' >= $2`,
    [districtCodes, from, to, PLANNED_GRACE_MS],
  );
  return rows.map((r) => ({ id: r.outage_id, districtCode: r.district_code, start: r.starts_at, end: r.ends_at }));
};
