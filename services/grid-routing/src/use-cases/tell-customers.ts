import type { PoolClient } from 'pg';
import { buildEvent, Topics, type CustomerNoticeKind, type CustomerNoticeV1, type IncidentEventV1, type NoticeRecipient } from '@griddispatch/contracts';
import { enqueueOutbox, eventRecord, type OutboxRecord } from '@griddispatch/db';

// Telling the customers (主动服务), docs/architecture.md#telling-the-customers: which accounts hear
// of which stage, decided here because the accounts and their phones live in this schema. The
// notices go to notification on the internal topic `customers.notices` (outbox, same transaction
// as the state that says they were told), ≤ 500 recipients a record, most urgent first.

/** Recipients per customers.notices record: a record stays well under Kafka's 1 MB. */
export const NOTICE_PART_SIZE = 500;

/** An ETR that moved less than this against the one last told is not worth another SMS. */
export const ETR_NOTICE_THRESHOLD_MS = 30 * 60_000;

/** One stage to tell the accounts of some 台区. */
export interface Notice {
  subjectId: string;
  subjectKind: CustomerNoticeV1['subjectKind'];
  kind: CustomerNoticeKind;
  stage: string;
  districtCodes: string[];
  sendAt?: Date;
  supersedes?: string;
  etr?: Date;
  restoredAt?: Date;
  start?: Date;
  end?: Date;
  reason?: string;
}

/**
 * What an incident's event means for its customers, from the state of each of its 台区 rather
 * than from the event's `change` (how often incidents.events is published may change): a 台区
 * without an open episode is told of the outage; the top-level incident's ETR, when it moved
 * ≥ 30 min from the one last told, is told again; a restored incident closes its 台区's episodes
 * with a "restored" notice. Notices are keyed by the episode (the incident that first told the
 * 台区), so a feeder incident and its children never tell one customer one stage twice.
 */
export async function noticesForIncident(client: PoolClient, incident: IncidentEventV1, now: Date): Promise<Notice[]> {
  // A planned outage's customers were told of it (its announcement, its reminder): not again.
  if (incident.origin === 'planned') return [];
  const codes = await districtsOf(client, incident);
  if (codes.length === 0) return [];
  if (incident.status === 'restored' || incident.status === 'closed') {
    const restoredAt = incident.restoredAt ? new Date(incident.restoredAt) : now;
    const { rows } = await client.query<{ district_code: string; episode_id: string }>(
      `UPDATE routing.customer_episodes SET restored_at = $2
        WHERE district_code = ANY($1::text[]) AND restored_at IS NULL
       RETURNING district_code, episode_id`,
      [codes, restoredAt],
    );
    return byEpisode(rows).map(([episode, districtCodes]) => ({
      subjectId: episode,
      subjectKind: 'incident',
      kind: 'outage.restored',
      stage: 'restored',
      districtCodes,
      restoredAt,
    }));
  }
  const etr = new Date(incident.etr);
  const notices: Notice[] = [];
  // One statement, two effects. `opened`: each 台区 without an open episode opens one and is told of
  // the outage, unless it was told of its restoration since this incident opened (a parent's event
  // that arrives after a child's restoration, on another partition). `moved`: for a top-level
  // incident (the ETR customers hear is their top-level incident's: a child's own would contradict
  // it), the open episodes whose told ETR is ≥ 30 min off are told the new one. The update does not
  // see the rows the insert adds (one snapshot), and those were told this ETR with the outage.
  const { rows } = await client.query<{ district_code: string; episode_id: string; moved: boolean }>(
    `WITH opened AS (
       INSERT INTO routing.customer_episodes (district_code, episode_id, told_etr, opened_at)
       SELECT d, $2, $3, $4 FROM unnest($1::text[]) AS d
        WHERE NOT EXISTS (SELECT 1 FROM routing.customer_episodes e WHERE e.district_code = d AND e.restored_at >= $5)
       ON CONFLICT (district_code) WHERE restored_at IS NULL DO NOTHING
       RETURNING district_code, episode_id),
     moved AS (
       UPDATE routing.customer_episodes SET told_etr = $3
        WHERE $6 AND district_code = ANY($1::text[]) AND restored_at IS NULL
          AND (told_etr IS NULL OR abs(extract(epoch FROM told_etr - $3)) * 1000 >= $7)
       RETURNING district_code, episode_id)
     SELECT district_code, episode_id, false AS moved FROM opened
     UNION ALL SELECT district_code, episode_id, true FROM moved`,
    [codes, incident.id, etr, now, new Date(incident.openedAt), incident.parentId === null, ETR_NOTICE_THRESHOLD_MS],
  );
  const opened = rows.filter((r) => !r.moved);
  if (opened.length > 0) {
    notices.push({
      subjectId: incident.id,
      subjectKind: 'incident',
      kind: 'outage.detected',
      stage: 'outage',
      districtCodes: opened.map((r) => r.district_code).sort(),
      etr,
    });
  }
  for (const [episode, districtCodes] of byEpisode(rows.filter((r) => r.moved))) {
    notices.push({ subjectId: episode, subjectKind: 'incident', kind: 'outage.etr_changed', stage: `etr:${etr.toISOString()}`, districtCodes, etr });
  }
  return notices;
}

/** A district incident's own 台区; a feeder incident's: every 台区 of its line. */
async function districtsOf(client: PoolClient, incident: IncidentEventV1): Promise<string[]> {
  if (incident.kind !== 'feeder' || !incident.feederCode) return [...new Set(incident.districtCodes)];
  const { rows } = await client.query<{ code: string }>('SELECT code FROM routing.districts WHERE feeder_code = $1 ORDER BY code', [incident.feederCode]);
  return [...new Set([...rows.map((r) => r.code), ...incident.districtCodes])];
}

function byEpisode(rows: readonly { district_code: string; episode_id: string }[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const r of rows) groups.set(r.episode_id, [...(groups.get(r.episode_id) ?? []), r.district_code]);
  return [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([episode, codes]) => [episode, codes.sort()]);
}

/**
 * The customers.notices records of `notices`: the accounts with a mobile number in their 台区,
 * aquaculture and cold storage first (aerators and freezers die first), then important and
 * vulnerable customers, businesses, residents; by account within a class.
 */
export async function noticeRecords(client: PoolClient, notices: readonly Notice[], now: Date, traceparent?: string): Promise<OutboxRecord[]> {
  const records: OutboxRecord[] = [];
  for (const notice of notices) {
    // One client: its queries run one after the other anyway.
    const customers = await recipientsOf(client, notice.districtCodes);
    if (customers.length === 0) continue;
    const names = await districtNames(client, notice.districtCodes);
    const parts = Math.ceil(customers.length / NOTICE_PART_SIZE);
    for (let part = 1; part <= parts; part += 1) {
      const data: CustomerNoticeV1 = {
        subjectId: notice.subjectId,
        subjectKind: notice.subjectKind,
        kind: notice.kind,
        stage: notice.stage,
        part,
        parts,
        districts: names,
        recipients: customers.slice((part - 1) * NOTICE_PART_SIZE, part * NOTICE_PART_SIZE),
        ...(notice.sendAt ? { sendAt: notice.sendAt.toISOString() } : {}),
        ...(notice.supersedes ? { supersedes: notice.supersedes } : {}),
        ...(notice.etr ? { etr: notice.etr.toISOString() } : {}),
        ...(notice.restoredAt ? { restoredAt: notice.restoredAt.toISOString() } : {}),
        ...(notice.start ? { start: notice.start.toISOString() } : {}),
        ...(notice.end ? { end: notice.end.toISOString() } : {}),
        ...(notice.reason ? { reason: notice.reason } : {}),
      };
      const event = buildEvent({
        type: 'cn.griddispatch.customer.notice.v1',
        source: 'grid-routing',
        subject: notice.subjectId,
        data,
        time: now,
        traceparent,
      });
      // The trace continues from the incident's or outage's event, in the record header as in the event.
      records.push(eventRecord(Topics.customersNotices, notice.subjectId, event));
    }
  }
  return records;
}

export async function enqueueNotices(client: PoolClient, notices: readonly Notice[], now: Date, traceparent?: string): Promise<number> {
  const records = await noticeRecords(client, notices, now, traceparent);
  await enqueueOutbox(client, 'routing', records);
  return records.length;
}

async function recipientsOf(client: PoolClient, districtCodes: readonly string[]): Promise<NoticeRecipient[]> {
  const { rows } = await client.query<{ account_no: string; phone: string; classes: string[]; district_code: string }>(
    `SELECT account_no, phone, classes, district_code FROM routing.customers
      WHERE district_code = ANY($1::text[]) AND phone IS NOT NULL AND phone <> ''
      ORDER BY CASE WHEN classes && '{aquaculture,cold_storage}'::text[] THEN 0
                    WHEN classes && '{important,vulnerable}'::text[] THEN 1
                    WHEN 'commercial' = ANY(classes) THEN 2 ELSE 3 END, account_no`,
    [districtCodes],
  );
  return rows.map((r) => ({ accountNo: r.account_no, phone: r.phone, classes: r.classes, districtCode: r.district_code }));
}

async function districtNames(client: PoolClient, codes: readonly string[]): Promise<Record<string, string>> {
  const { rows } = await client.query<{ code: string; name: string }>('SELECT code, name FROM routing.districts WHERE code = ANY($1::text[])', [codes]);
  return Object.fromEntries(rows.map((r) => [r.code, r.name]));
}
