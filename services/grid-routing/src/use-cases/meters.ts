import type { PoolClient } from 'pg';
import type { MeterEventV1 } from '@griddispatch/contracts';
import { enqueueOutbox, type OutboxRecord } from '@griddispatch/db';
import type { RoutingData } from '../routing-data.ts';
import { SCHEMA } from '../schema.ts';
import { IncidentBook, type MetersStillOff } from './incidents.ts';
import { isOpen } from './incident-row.ts';
import type { RoutingContext } from './routing-context.ts';

// Meter events (主动抢修), docs/architecture.md#incidents rule 6. A consumed batch is handled as a set: its events
// are classified in memory, the meters' last states written in one statement, the quorum counted
// in one, and the incidents opened, restored or confirmed on ONE IncidentBook (the incident seam),
// flushed once. Per event the batch records what it did (routing.meter_events), or why it did
// nothing (routing.meter_event_noops): never a dead letter for a meter that is not ours.
//
// Readings written down here:
// - A meter's state is its last heard event; a power-off repeated while off keeps the first
//   `state_at` (off since), so the quorum counts meters that went off within the window.
// - Quorum: ≥ GD_METER_QUORUM distinct meters of one 台区 whose power-off falls within
//   GD_METER_QUORUM_WINDOW (2 min) of one of the batch's power-offs; the transformer meter
//   (台区总表) alone is enough. The incident opens at the event that completed it.
// - Storm mode (routing.storm_mode over the 台区's grid, its area grid or '*'): single customers'
//   power-offs are ignored — a customer meter never opens an incident alone, whatever
//   GD_METER_QUORUM says (a station may set it to 1 in calm weather); such a power-off is
//   recorded as the no-op `storm_single_customer`. The meter's state is still remembered, so
//   restoration checks stay honest and it counts towards a later quorum.
// - Inside a scheduled planned outage's window [start, end + 15 min] (rule 7) the same trigger
//   opens the outage's incident (origin planned, ETR = its end, no crew) instead of a fault
//   incident; later calls join it, the meters' power-on restores it.
// - Power-on that turns an off meter on re-checks the 台区's incident: no affected meter still
//   off → an open incident is restored by meters; one the crew restored as unconfirmed is
//   confirmed. A power-on of a meter not recorded off, in a 台区 with no such incident, is the
//   no-op `no_outage`.
// - "Its meters" (metersStillOff): meters of the incident's 台区 whose last state is off and went
//   off at most OFF_LOOKBACK_MS before the incident opened (a meter off for weeks — an account cut
//   off for arrears — does not hold a restoration hostage).

/** How long before an incident opened a meter's power-off still counts as part of that outage. */
export const OFF_LOOKBACK_MS = 2 * 3_600_000;

export type NoopReason = 'duplicate' | 'unknown_meter' | 'future' | 'stale' | 'unchanged' | 'no_outage' | 'storm_single_customer';
export type MeterOutcome = 'off' | 'on' | 'below_quorum' | 'opened' | 'planned' | 'evidence' | 'restored' | 'confirmed';

export type MeterResult = { status: 'applied'; outcome: MeterOutcome; incidentId: string | null } | { status: 'noop'; reason: NoopReason; detail: string };

interface MeterRow {
  meter_id: string;
  district_code: string;
  kind: 'customer' | 'transformer';
  state: 'off' | 'on' | null;
  state_at: Date | null;
}

export interface MeterBatch {
  results: Map<string, MeterResult>;
  book: IncidentBook;
  /** meter_events rows (first sight of each (source, eventId)). */
  seen: { source: string; eventId: string; meterId: string; kind: string; at: Date; outcome: MeterOutcome; incidentId: string | null }[];
  noops: { source: string; eventId: string; meterId: string; kind: string; at: Date; reason: NoopReason; detail: string }[];
}

/** An event of the batch with its CloudEvent id (the key of its result). */
export interface MeterInput {
  id: string;
  data: MeterEventV1;
}

/** The hook the incident store calls when a crew resolves: do the incident's meters still report off? */
export const metersStillOff: MetersStillOff = async (client, incidentId) => {
  const { rows } = await client.query(
    `SELECT 1 FROM routing.incidents i JOIN routing.meters m ON m.district_code = ANY(i.district_codes)
      WHERE i.id = $1 AND m.state = 'off' AND m.state_at >= i.opened_at - $2 * interval '1 millisecond' LIMIT 1`,
    [incidentId, OFF_LOOKBACK_MS],
  );
  return (rows.length ?? 0) > 0;
};

async function stormDistricts(client: PoolClient, data: RoutingData, districts: readonly string[]): Promise<Set<string>> {
  const { rows } = await client.query<{ grid_id: string; active: boolean }>('SELECT grid_id, active FROM routing.storm_mode');
  if (rows.length === 0) return new Set();
  const mode = new Map(rows.map((r) => [r.grid_id, r.active]));
  const out = new Set<string>();
  for (const d of districts) {
    const gridId = data.districts.get(d)?.gridId;
    const parentId = gridId ? data.directory.grids.get(gridId)?.parentId : null;
    const active = (gridId ? mode.get(gridId) : undefined) ?? (parentId ? mode.get(parentId) : undefined) ?? mode.get('*') ?? false;
    if (active) out.add(d);
  }
  return out;
}

const byTime = (a: MeterInput, b: MeterInput) => Date.parse(a.data.at) - Date.parse(b.data.at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Everything of a batch but the writes of finishMeterBatch: classify, lock the feeders of the
 * batch's 台区 (the incident seam's lock, sorted) before any meter row is written, write the
 * states, count the quorum, open / restore / confirm on the book.
 */
export async function prepareMeterBatch(ctx: RoutingContext, client: PoolClient, events: MeterInput[]): Promise<MeterBatch> {
  const data = await ctx.data.current(client);
  const book = new IncidentBook(ctx, data);
  const batch: MeterBatch = { results: new Map(), book, seen: [], noops: [] };
  const now = ctx.now();
  const noop = (e: MeterInput, reason: NoopReason, detail: string) => {
    batch.results.set(e.id, { status: 'noop', reason, detail });
    batch.noops.push({ source: e.data.source, eventId: e.data.eventId, meterId: e.data.meterId, kind: e.data.kind, at: new Date(e.data.at), reason, detail });
  };

  // 1. The meter system's own key: (source, eventId) applied before, or twice in this batch.
  const { rows: before } = await client.query<{ source: string; event_id: string }>(
    'SELECT source, event_id FROM routing.meter_events WHERE (source, event_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))',
    [events.map((e) => e.data.source), events.map((e) => e.data.eventId)],
  );
  const keys = new Set(before.map((r) => `${r.source}\u0000${r.event_id}`));
  const fresh: MeterInput[] = [];
  for (const e of [...events].sort(byTime)) {
    const key = `${e.data.source}\u0000${e.data.eventId}`;
    if (keys.has(key)) noop(e, 'duplicate', `event ${e.data.eventId} of ${e.data.source} was applied before`);
    else if (Date.parse(e.data.at) > now.getTime() + ctx.config.meterFutureToleranceMs) {
      keys.add(key);
      noop(e, 'future', `stamped ${e.data.at}, more than ${ctx.config.meterFutureToleranceMs / 1000}s after ${now.toISOString()}: the meter's clock is wrong`);
    } else {
      keys.add(key);
      fresh.push(e);
    }
  }

  // 2. Which meters: their 台区 first (reference data), then their feeders locked, then their state.
  const meterIds = [...new Set(fresh.map((e) => e.data.meterId))];
  const { rows: found } = await client.query<{ meter_id: string; district_code: string }>(
    'SELECT meter_id, district_code FROM routing.meters WHERE meter_id = ANY($1::text[])',
    [meterIds],
  );
  const districtOf = new Map(found.map((r) => [r.meter_id, r.district_code]));
  const districts = [...new Set(found.map((r) => r.district_code))].sort();
  if (districts.length > 0) await book.loadForDistricts(client, districts);
  const { rows: states } = await client.query<MeterRow>(
    'SELECT meter_id, district_code, kind, state, state_at FROM routing.meters WHERE meter_id = ANY($1::text[])',
    [meterIds],
  );
  const meters = new Map(states.map((r) => [r.meter_id, r]));
  const storm = await stormDistricts(client, data, districts);

  // 3. Each event against its meter's state, in time order; the state changes collected.
  const changed = new Map<string, MeterRow>();
  const offs: { e: MeterInput; meter: MeterRow }[] = [];
  const ons: { e: MeterInput; meter: MeterRow }[] = [];
  const notOff: { e: MeterInput; meter: MeterRow }[] = [];
  for (const e of fresh) {
    const meter = meters.get(e.data.meterId);
    if (!meter || !districtOf.has(e.data.meterId)) {
      noop(e, 'unknown_meter', `meter ${e.data.meterId} is not in routing.meters (import its account or 台区)`);
      continue;
    }
    const at = new Date(e.data.at);
    if (meter.state_at && at < meter.state_at) {
      noop(e, 'stale', `older than the meter's last state (${meter.state} at ${meter.state_at.toISOString()})`);
      continue;
    }
    const next = e.data.kind === 'power_off' ? 'off' : 'on';
    if (meter.state === next) {
      if (next === 'on') notOff.push({ e, meter });
      else noop(e, 'unchanged', `meter already off since ${meter.state_at?.toISOString() ?? '?'}`);
      continue;
    }
    if (next === 'on' && meter.state === null) {
      notOff.push({ e, meter });
      continue;
    }
    meter.state = next;
    meter.state_at = at;
    changed.set(meter.meter_id, meter);
    (next === 'off' ? offs : ons).push({ e, meter });
  }
  if (changed.size > 0) {
    const rows = [...changed.values()].sort((a, b) => (a.meter_id < b.meter_id ? -1 : 1));
    await client.query(
      `UPDATE routing.meters m SET state = u.state, state_at = u.state_at, updated_at = now()
         FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(meter_id, state, state_at) WHERE m.meter_id = u.meter_id`,
      [rows.map((r) => r.meter_id), rows.map((r) => r.state), rows.map((r) => r.state_at)],
    );
  }
  const applied = (e: MeterInput, meter: MeterRow, outcome: MeterOutcome, incidentId: string | null) => {
    batch.results.set(e.id, { status: 'applied', outcome, incidentId });
    batch.seen.push({
      source: e.data.source,
      eventId: e.data.eventId,
      meterId: meter.meter_id,
      kind: e.data.kind,
      at: new Date(e.data.at),
      outcome,
      incidentId,
    });
  };

  // 4. Power-off: evidence of an open incident, or the transformer meter / the quorum opens one —
  //    inside a scheduled outage's window (rule 7) that is the outage's incident (no crew), not a fault.
  const undecided = offs.filter(({ meter }) => {
    const row = book.openIn(meter.district_code);
    return !row || row.origin === 'planned';
  });
  const { at: quorumAt, first: quorumFirst } = await quorumTimes(ctx, client, undecided, storm);
  if (ctx.plannedOutages && undecided.length > 0) {
    const times = undecided.map(({ e }) => Date.parse(e.data.at));
    book.setPlanned(
      await ctx.plannedOutages(
        client,
        [...new Set(undecided.map(({ meter }) => meter.district_code))].sort(),
        new Date(Math.min(...times)),
        new Date(Math.max(...times)),
      ),
    );
  }
  for (const { e, meter } of offs) {
    const d = meter.district_code;
    const at = new Date(e.data.at);
    let open = book.openIn(d);
    // A planned outage's incident past its end + 15 min takes no more evidence: this is a new fault.
    if (open && book.endPlannedIfOver(open, at)) open = undefined;
    if (open) {
      book.noteEvidence(open, at);
      applied(e, meter, 'evidence', open.id);
      continue;
    }
    const q = quorumAt.get(d);
    const gridId = data.districts.get(d)?.gridId;
    if (gridId && (meter.kind === 'transformer' || (q !== undefined && at >= q))) {
      const planned = book.plannedAt(d, at);
      const row = planned
        ? book.open({ districtCode: d, gridId, origin: 'planned', at, primaryRequestId: null, plannedOutageId: planned.id, etr: planned.end })
        : book.open({ districtCode: d, gridId, origin: 'meter', at, primaryRequestId: null });
      // The quorum's first power-off, not the one that completed it, is when the outage began.
      const first = q === undefined || meter.kind === 'transformer' ? undefined : quorumFirst.get(d);
      if (first) book.noteEvidence(row, first);
      applied(e, meter, planned ? 'planned' : 'opened', row.id);
      continue;
    }
    if (storm.has(d) && meter.kind === 'customer') {
      batch.results.set(e.id, { status: 'noop', reason: 'storm_single_customer', detail: `storm mode over ${d}: a single customer's power-off opens nothing` });
      batch.noops.push({
        source: e.data.source,
        eventId: e.data.eventId,
        meterId: meter.meter_id,
        kind: e.data.kind,
        at,
        reason: 'storm_single_customer',
        detail: 'storm mode',
      });
      batch.seen.push({
        source: e.data.source,
        eventId: e.data.eventId,
        meterId: meter.meter_id,
        kind: e.data.kind,
        at,
        outcome: 'below_quorum',
        incidentId: null,
      });
    } else applied(e, meter, 'below_quorum', null);
  }

  // 5. Power-on: the 台区's open incident, else the one restored unconfirmed, once none of its meters is off.
  const onDistricts = [...new Set([...ons, ...notOff].map(({ meter }) => meter.district_code))];
  const unconfirmed = new Map<string, string[]>();
  if (onDistricts.length > 0) {
    const { rows } = await client.query<{ id: string; district_codes: string[] }>(
      `SELECT id, district_codes FROM routing.incidents WHERE status = 'restored' AND restoration_unconfirmed AND district_codes && $1::text[] ORDER BY opened_at`,
      [onDistricts],
    );
    if (rows.length > 0)
      await book.loadById(
        client,
        rows.map((r) => r.id),
      );
    for (const r of rows) for (const d of r.district_codes) unconfirmed.set(d, [...(unconfirmed.get(d) ?? []), r.id]);
  }
  const checked = new Map<string, boolean>();
  const stillOff = async (id: string) => {
    if (!checked.has(id)) checked.set(id, await metersStillOff(client, id));
    return checked.get(id) as boolean;
  };
  for (const { e, meter } of ons) {
    const d = meter.district_code;
    const at = new Date(e.data.at);
    const open = book.openIn(d);
    if (open && isOpen(open)) {
      if (await stillOff(open.id)) applied(e, meter, 'on', open.id);
      else {
        book.restore(open, at, 'meters', false);
        applied(e, meter, 'restored', open.id);
      }
      continue;
    }
    let outcome: MeterOutcome = 'on';
    let incidentId: string | null = null;
    for (const id of unconfirmed.get(d) ?? []) {
      const row = book.get(id);
      if (!row?.restoration_unconfirmed) continue;
      incidentId = id;
      if (!(await stillOff(id))) {
        book.confirmRestoration(row, at);
        outcome = 'confirmed';
      }
    }
    applied(e, meter, outcome, incidentId);
  }
  for (const { e, meter } of notOff) {
    const d = meter.district_code;
    const incidentId = book.openIn(d)?.id ?? unconfirmed.get(d)?.[0] ?? null;
    if (incidentId) noop(e, 'unchanged', `meter ${meter.meter_id} was not recorded off`);
    else noop(e, 'no_outage', `meter ${meter.meter_id} was not recorded off and 台区 ${d} has no outage`);
  }
  return batch;
}

/**
 * Per 台区 with no open incident: the earliest of the batch's power-offs at which ≥ quorum
 * distinct meters of the 台区 are off with `state_at` in [at − window, at] (states as written above).
 */
async function quorumTimes(
  ctx: RoutingContext,
  client: PoolClient,
  offs: { e: MeterInput; meter: MeterRow }[],
  storm: Set<string>,
): Promise<{ at: Map<string, Date>; first: Map<string, Date> }> {
  const out = new Map<string, Date>();
  const first = new Map<string, Date>();
  const customerOffs = offs.filter(({ meter }) => meter.kind === 'customer');
  if (customerOffs.length === 0) return { at: out, first };
  const pairs = new Map<string, { d: string; at: Date }>();
  for (const { e, meter } of customerOffs) pairs.set(`${meter.district_code}@${e.data.at}`, { d: meter.district_code, at: new Date(e.data.at) });
  const list = [...pairs.values()];
  const { rows } = await client.query<{ district_code: string; at: Date; n: number; first: Date | null }>(
    `SELECT p.d AS district_code, p.at, c.n, c.first FROM unnest($1::text[], $2::timestamptz[]) AS p(d, at)
       CROSS JOIN LATERAL (SELECT count(*)::int AS n, min(m.state_at) AS first FROM routing.meters m
                            WHERE m.district_code = p.d AND m.state = 'off' AND m.state_at BETWEEN p.at - $3 * interval '1 millisecond' AND p.at) c`,
    [list.map((p) => p.d), list.map((p) => p.at), ctx.config.meterQuorumWindowMs],
  );
  for (const r of rows) {
    const quorum = storm.has(r.district_code) ? Math.max(2, ctx.config.meterQuorum) : ctx.config.meterQuorum;
    if (r.n < quorum) continue;
    const prev = out.get(r.district_code);
    if (!prev || r.at < prev) {
      out.set(r.district_code, r.at);
      if (r.first) first.set(r.district_code, r.first);
    }
  }
  return { at: out, first };
}

/** The batch's incidents (one statement, incidents.events through the outbox) and its event records. */
export async function finishMeterBatch(client: PoolClient, batch: MeterBatch): Promise<void> {
  const outbox: OutboxRecord[] = [];
  await batch.book.flush(client, outbox);
  await enqueueOutbox(client, SCHEMA, outbox);
  const { seen, noops } = batch;
  if (seen.length > 0) {
    await client.query(
      `INSERT INTO routing.meter_events (source, event_id, meter_id, kind, at, outcome, incident_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[]) ON CONFLICT DO NOTHING`,
      [
        seen.map((s) => s.source),
        seen.map((s) => s.eventId),
        seen.map((s) => s.meterId),
        seen.map((s) => s.kind),
        seen.map((s) => s.at),
        seen.map((s) => s.outcome),
        seen.map((s) => s.incidentId),
      ],
    );
  }
  if (noops.length > 0) {
    await client.query(
      `INSERT INTO routing.meter_event_noops (source, event_id, meter_id, kind, at, reason, detail)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[])`,
      [
        noops.map((s) => s.source),
        noops.map((s) => s.eventId),
        noops.map((s) => s.meterId),
        noops.map((s) => s.kind),
        noops.map((s) => s.at),
        noops.map((s) => s.reason),
        noops.map((s) => s.detail),
      ],
    );
  }
}
