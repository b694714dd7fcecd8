import type { PoolClient } from 'pg';
import { buildEvent, Topics, type Incident, type IncidentEventType, type IncidentOrigin, type IncidentStatus, type Urgency } from '@griddispatch/contracts';
import { eventRecord, type OutboxRecord } from '@griddispatch/db';

// routing.incidents as this service reads and writes it, the row → `Incident` contract mapping
// and the incidents.events records (the whole incident after each change; key: incident id).

export type IncidentKind = Incident['kind'];
export type EtrSource = Incident['etrSource'];
/** Who restored an incident: its crew, its meters, its feeder parent, or all of its children. */
export type RestoredBy = 'crew' | 'meters' | 'parent' | 'children';

export interface IncidentRow {
  id: string;
  kind: IncidentKind;
  origin: IncidentOrigin;
  status: IncidentStatus;
  /** The 台区 of a district incident; null on a feeder incident. */
  district_code: string | null;
  feeder_code: string | null;
  district_codes: string[];
  grid_id: string;
  parent_id: string | null;
  primary_request_id: string | null;
  opened_at: Date;
  last_call_at: Date;
  call_count: number;
  /** The call count the incident's last incidents.events record carried (rule 8: counts are told at most every interval). */
  calls_told: number;
  urgency: Urgency;
  /** Null only on rows older than migration 002 (read as opened_at). */
  etr: Date | null;
  etr_source: EtrSource;
  /** The policy's restore window at opening, before any storm factor. */
  etr_base_ms: number | null;
  planned_outage_id: string | null;
  restored_at: Date | null;
  restored_by: RestoredBy | null;
  restoration_unconfirmed: boolean;
  affected_customers: number;
  /**
   * The interruption's start for the reports (docs/architecture.md#incidents, reports): the earliest evidence of it — its
   * first call (reportedAt, else receivedAt), the first power-off of its 台区's meters that
   * opened or fed it, or a child's. Only ever moves earlier.
   */
  evidence_at: Date;
  /** When the meters confirmed a restoration the crew reported while they were still off (null: never). */
  confirmed_at: Date | null;
  updated_at: Date;
}

export const INCIDENT_COLUMNS = `id, kind, origin, status, district_code, feeder_code, district_codes, grid_id, parent_id, primary_request_id, opened_at,
  last_call_at, call_count, calls_told, urgency, etr, etr_source, etr_base_ms::float8 AS etr_base_ms, planned_outage_id, restored_at, restored_by,
  restoration_unconfirmed, affected_customers, evidence_at, confirmed_at, updated_at`;

/** Not restored, not closed: calls of its 台区 join it. */
export const OPEN_SQL = "status NOT IN ('restored', 'closed')";

export function isOpen(row: Pick<IncidentRow, 'status'>): boolean {
  return row.status !== 'restored' && row.status !== 'closed';
}

/** The status order an incident moves along (forward only). */
export const STATUS_RANK: Record<IncidentStatus, number> = { open: 0, dispatched: 1, en_route: 2, arrived: 3, restored: 4, closed: 5 };

export function toIncident(row: IncidentRow, childIds: readonly string[]): Incident {
  return {
    id: row.id,
    status: row.status,
    origin: row.origin,
    kind: row.kind,
    gridId: row.grid_id,
    feederCode: row.feeder_code,
    districtCodes: [...row.district_codes],
    parentId: row.parent_id,
    childIds: [...childIds].sort(),
    callCount: row.call_count,
    affectedCustomers: row.affected_customers,
    urgency: row.urgency,
    openedAt: row.opened_at.toISOString(),
    etr: (row.etr ?? row.opened_at).toISOString(),
    etrSource: row.etr_source,
    primaryRequestId: row.primary_request_id,
    plannedOutageId: row.planned_outage_id,
    restoredAt: row.restored_at?.toISOString() ?? null,
    restorationUnconfirmed: row.restoration_unconfirmed,
    updatedAt: row.updated_at.toISOString(),
  };
}

/** One incidents.events record: the whole incident after `change`, keyed by its id. */
export function incidentRecord(type: IncidentEventType, incident: Incident, change: string, time: Date, traceparent?: string): OutboxRecord {
  const event = buildEvent({ type, source: 'grid-routing', subject: incident.id, data: { ...incident, change }, time, traceparent });
  return eventRecord(Topics.incidentsEvents, incident.id, event);
}

/** Every write to routing.incidents is this one statement: the rows as a JSON array, inserted or replaced. */
export async function writeIncidentRows(client: PoolClient, rows: readonly IncidentRow[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO routing.incidents AS t (id, kind, origin, status, district_code, feeder_code, district_codes, grid_id, parent_id, primary_request_id,
       opened_at, last_call_at, call_count, calls_told, urgency, etr, etr_source, etr_base_ms, planned_outage_id, restored_at, restored_by, restoration_unconfirmed,
       affected_customers, evidence_at, confirmed_at, updated_at)
     SELECT id, kind, origin, status, district_code, feeder_code, coalesce(district_codes, '{}'), grid_id, parent_id, primary_request_id,
       opened_at, last_call_at, call_count, calls_told, urgency, etr, etr_source, etr_base_ms, planned_outage_id, restored_at, restored_by, restoration_unconfirmed,
       affected_customers, evidence_at, confirmed_at, updated_at
       FROM jsonb_to_recordset($1::jsonb) AS r(id text, kind text, origin text, status text, district_code text, feeder_code text, district_codes text[],
         grid_id text, parent_id text, primary_request_id text, opened_at timestamptz, last_call_at timestamptz, call_count int, calls_told int, urgency text,
         etr timestamptz, etr_source text, etr_base_ms bigint, planned_outage_id text, restored_at timestamptz, restored_by text,
         restoration_unconfirmed boolean, affected_customers int, evidence_at timestamptz, confirmed_at timestamptz, updated_at timestamptz)
     ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, district_codes = EXCLUDED.district_codes, parent_id = EXCLUDED.parent_id,
       primary_request_id = EXCLUDED.primary_request_id, last_call_at = EXCLUDED.last_call_at, call_count = EXCLUDED.call_count, calls_told = EXCLUDED.calls_told,
       urgency = EXCLUDED.urgency, etr = EXCLUDED.etr, etr_source = EXCLUDED.etr_source, etr_base_ms = EXCLUDED.etr_base_ms,
       restored_at = EXCLUDED.restored_at, restored_by = EXCLUDED.restored_by, restoration_unconfirmed = EXCLUDED.restoration_unconfirmed,
       affected_customers = EXCLUDED.affected_customers, evidence_at = least(t.evidence_at, EXCLUDED.evidence_at),
       confirmed_at = coalesce(t.confirmed_at, EXCLUDED.confirmed_at), updated_at = EXCLUDED.updated_at`,
    [JSON.stringify(rows.map((row) => ({ ...row, etr_base_ms: row.etr_base_ms === null ? null : Math.round(row.etr_base_ms) })))],
  );
}
