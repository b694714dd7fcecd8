import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { Incident, IncidentEventType, IncidentOrigin, IncidentStatus, Urgency } from '@griddispatch/contracts';
import type { OutboxRecord } from '@griddispatch/db';
import { currentTraceparent } from '@griddispatch/observability';
import { planFor } from '@griddispatch/sla';
import { maxUrgency, urgencyForCalls, type GroupingRules } from '../domain/incident.ts';
import type { RoutingData } from '../routing-data.ts';
import { incidentRecord, isOpen, STATUS_RANK, toIncident, writeIncidentRows, type IncidentRow, type RestoredBy } from './incident-row.ts';
import { countCustomers, lockKey, readChildIds, readFamilies, readLockKeys, readNear, readStorm, rowKey, takeLocks, type StormRows } from './incident-store.ts';
import type { PlannedWindow, RoutingContext } from './routing-context.ts';

/**
 * Evidence stamped further back than this before an incident opened is not taken as its start (a
 * meter off for weeks, a mistyped report time): the reports would count days of outage for it.
 */
export const EVIDENCE_LOOKBACK_MS = 2 * 3_600_000;

/** Calls within this long after a planned outage's end still join it (rule 7). */
export const PLANNED_GRACE_MS = 15 * 60_000;

// The incidents one transaction works on, in memory: locked per feeder, read once, changed by the
// rules of docs/architecture.md#incidents, then written in one statement and told on
// incidents.events (one record per changed incident) by `flush`. The consumed batch of
// request.received uses one book for all its calls; every other change (a seam call, a work-order
// event, an ETR or storm change) uses a book of its own. Whoever changes an incident holds its
// feeder's lock, so the whole-row write of `flush` cannot lose another transaction's change.

export interface OpenInput {
  districtCode: string;
  gridId: string;
  origin: IncidentOrigin;
  at: Date;
  urgency?: Urgency | undefined;
  /** The call that opens it: its primary work order (unless it opens under a feeder parent). */
  primaryRequestId?: string | null | undefined;
  plannedOutageId?: string | null | undefined;
  /** A given ETR (a planned outage's end): `etrSource` planned. */
  etr?: Date | null | undefined;
  /**
   * Where the policy's restore window starts when not at `at`: a follow-up opened with the
   * original start counts it from its reopening (an ETR in the past helps nobody). Such an ETR is
   * not rescaled by storm mode later.
   */
  etrFrom?: Date | undefined;
}

type Transition = 'restored' | 'closed';

export class IncidentBook {
  private readonly rows = new Map<string, IncidentRow>();
  private readonly openByDistrict = new Map<string, IncidentRow>();
  private readonly openFeeder = new Map<string, IncidentRow>();
  private readonly locked = new Set<string>();
  private readonly created = new Set<string>();
  private readonly changes = new Map<string, Set<string>>();
  /** Changed in what is not told at once (evidence_at, a call count): written, not told on incidents.events. */
  private readonly quiet = new Set<string>();
  private readonly transitions = new Map<string, Transition>();
  private readonly childIds = new Map<string, Set<string>>();
  /** The trace of the event (or HTTP request) that first changed each incident since the last flush. */
  private readonly traces = new Map<string, string>();
  private storm: StormRows = new Map();
  private stormLocked = false;
  private readonly planned = new Map<string, PlannedWindow[]>();

  constructor(
    private readonly ctx: RoutingContext,
    readonly data: RoutingData,
  ) {}

  /** The lock of a 台区's incidents: its feeder's. */
  districtKey(districtCode: string): string {
    return lockKey(this.data.districts.get(districtCode)?.feederCode ?? null, districtCode);
  }

  /**
   * Takes the locks not yet held, sorted: books lock in one global order and cannot deadlock each
   * other. With `storm`, the storm lock (shared) first, in the same statement.
   */
  async lock(client: PoolClient, keys: Iterable<string>, storm = false): Promise<void> {
    const todo = [...new Set(keys)].filter((k) => !this.locked.has(k)).sort();
    const withStorm = storm && !this.stormLocked;
    if (todo.length === 0 && !withStorm) return;
    await takeLocks(client, todo, withStorm);
    for (const k of todo) this.locked.add(k);
    if (withStorm) this.stormLocked = true;
  }

  /**
   * Locks the feeders of these 台区 and reads, in one statement, what their calls may touch: the
   * open incidents of the 台区 and of their feeders (parents, nesting candidates) and the incidents
   * named by id (a request with `incidentId`), whose lock is taken too if it is another one.
   */
  async loadForDistricts(client: PoolClient, districts: readonly string[], ids: readonly string[] = []): Promise<void> {
    const keys = districts.map((d) => this.districtKey(d));
    await this.lock(client, keys, true);
    const feeders = [...new Set(districts.flatMap((d) => this.data.districts.get(d)?.feederCode ?? []))];
    const rows = await readNear(client, districts, feeders, ids);
    const unlocked = rows.filter((row) => !this.locked.has(rowKey(row)));
    for (const row of rows) if (!unlocked.includes(row)) this.add(row);
    if (unlocked.length > 0)
      await this.loadById(
        client,
        unlocked.map((row) => row.id),
      );
    await this.loadStorm(client);
  }

  /** Locks and reads incidents by id with their families (parent, children, siblings). */
  async loadById(client: PoolClient, ids: readonly string[]): Promise<void> {
    await this.lock(client, await readLockKeys(client, ids));
    for (const row of await readFamilies(client, ids)) this.add(row);
  }

  /** Reads storm mode (after its lock, so in a snapshot that sees the latest committed change). */
  async loadStorm(client: PoolClient): Promise<void> {
    this.storm = await readStorm(client);
  }

  private add(row: IncidentRow): void {
    if (this.rows.has(row.id)) return;
    this.rows.set(row.id, row);
    if (!isOpen(row)) return;
    if (row.kind === 'district' && row.district_code) this.openByDistrict.set(row.district_code, row);
    if (row.kind === 'feeder' && row.feeder_code) this.openFeeder.set(row.feeder_code, row);
  }

  get(id: string): IncidentRow | undefined {
    return this.rows.get(id);
  }

  /** The 台区's open district incident (rule 1: there is at most one). */
  openIn(districtCode: string): IncidentRow | undefined {
    const row = this.openByDistrict.get(districtCode);
    return row && isOpen(row) ? row : undefined;
  }

  private openFeederOf(feederCode: string): IncidentRow | undefined {
    const row = this.openFeeder.get(feederCode);
    return row && isOpen(row) ? row : undefined;
  }

  /** Planned outages of the batch's 台区 (the `plannedOutages` hook), for `plannedAt`. */
  setPlanned(windows: readonly PlannedWindow[]): void {
    for (const w of windows) this.planned.set(w.districtCode, [...(this.planned.get(w.districtCode) ?? []), w]);
  }

  /** Rule 7: the planned outage whose window [start, end + 15 min] holds a call of this 台区 at `at`. */
  plannedAt(districtCode: string, at: Date): PlannedWindow | undefined {
    const t = at.getTime();
    return this.planned.get(districtCode)?.find((w) => w.start.getTime() <= t && t <= w.end.getTime() + PLANNED_GRACE_MS);
  }

  /** A planned outage's incident whose window (end + 15 min) has passed takes no more calls: closed, restored at its end. */
  endPlannedIfOver(row: IncidentRow, at: Date): boolean {
    if (row.origin !== 'planned' || !isOpen(row) || !row.etr || at.getTime() <= row.etr.getTime() + PLANNED_GRACE_MS) return false;
    row.status = 'closed';
    row.restored_at = row.etr;
    this.transitions.set(row.id, 'closed');
    this.touch(row, 'status');
    return true;
  }

  private children(parent: IncidentRow): IncidentRow[] {
    return [...this.rows.values()].filter((row) => row.parent_id === parent.id);
  }

  /** Its incidents.events record continues the trace of what changed it first. */
  private traced(row: IncidentRow): void {
    if (this.traces.has(row.id)) return;
    const traceparent = currentTraceparent();
    if (traceparent) this.traces.set(row.id, traceparent);
  }

  private touch(row: IncidentRow, change: string): void {
    this.traced(row);
    const set = this.changes.get(row.id) ?? new Set<string>();
    set.add(change);
    this.changes.set(row.id, set);
    row.updated_at = this.ctx.now();
  }

  /** The storm factor over a grid: its own row, else the all-grids row; 1 when not in storm mode. */
  stormFactor(gridId: string): number {
    const row = this.storm.get(gridId) ?? this.storm.get('*');
    return row?.active ? row.factor : 1;
  }

  /** Rule 5: opening + the restore window of the fault-repair plan there, × the storm factor. */
  policyEtr(gridId: string, urgency: Urgency, at: Date): { etr: Date; baseMs: number } {
    const areaType = this.data.directory.grids.get(gridId)?.areaType ?? 'urban';
    const plan = planFor(this.ctx.policy, { category: 'fault_repair', customerClasses: [], urgency, areaType, gridId }, at);
    const deadline = plan.deadlines.resolve ?? plan.deadlines.arrive;
    const baseMs = deadline ? Math.max(0, Date.parse(deadline) - at.getTime()) : 4 * 3_600_000;
    return { etr: new Date(at.getTime() + Math.round(baseMs * this.stormFactor(gridId))), baseMs };
  }

  /** A new incident in memory, written by the next `flush` (incident.opened). */
  private create(
    fields: Omit<
      IncidentRow,
      'id' | 'calls_told' | 'restored_at' | 'restored_by' | 'restoration_unconfirmed' | 'affected_customers' | 'evidence_at' | 'confirmed_at' | 'updated_at'
    >,
  ): IncidentRow {
    const row: IncidentRow = {
      id: randomUUID(),
      ...fields,
      calls_told: 0,
      restored_at: null,
      restored_by: null,
      restoration_unconfirmed: false,
      affected_customers: 0,
      evidence_at: fields.opened_at,
      confirmed_at: null,
      updated_at: this.ctx.now(),
    };
    this.add(row);
    this.created.add(row.id);
    this.traced(row);
    return row;
  }

  /**
   * Opens a district incident in memory (the caller checked that the 台区 has none open). Under an
   * open feeder incident it opens as its child with no primary; otherwise it may complete a
   * feeder's nesting (rule 4).
   */
  open(input: OpenInput): IncidentRow {
    const feederCode = this.data.districts.get(input.districtCode)?.feederCode ?? null;
    const parent = input.origin !== 'planned' && feederCode ? this.openFeederOf(feederCode) : undefined;
    const urgency = input.urgency ?? 'normal';
    const policy = this.policyEtr(input.gridId, urgency, input.etrFrom ?? input.at);
    const primary = parent ? null : (input.primaryRequestId ?? null);
    const row = this.create({
      kind: 'district',
      origin: input.origin,
      status: primary ? 'dispatched' : 'open',
      district_code: input.districtCode,
      feeder_code: feederCode,
      district_codes: [input.districtCode],
      grid_id: input.gridId,
      parent_id: parent?.id ?? null,
      primary_request_id: primary,
      opened_at: input.at,
      last_call_at: input.at,
      call_count: 0,
      urgency,
      etr: input.etr ?? policy.etr,
      etr_source: input.etr ? 'planned' : 'policy',
      etr_base_ms: input.etr || input.etrFrom ? null : policy.baseMs,
      planned_outage_id: input.plannedOutageId ?? null,
    });
    if (parent) {
      parent.district_codes = [...new Set([...parent.district_codes, input.districtCode])].sort();
      this.touch(parent, 'nested');
      this.moveEvidence(parent, row.evidence_at);
    } else if (feederCode && input.origin !== 'planned') {
      this.nest(feederCode, input.at);
    }
    return row;
  }

  /** Rule 4: enough open parentless district incidents of one feeder opened within the window → a feeder incident over them. */
  private nest(feederCode: string, at: Date): void {
    if (this.openFeederOf(feederCode)) return;
    const since = at.getTime() - this.ctx.config.incidentWindowMs;
    const children = [...this.openByDistrict.values()].filter(
      (row) => isOpen(row) && row.feeder_code === feederCode && row.parent_id === null && row.origin !== 'planned' && row.opened_at.getTime() >= since,
    );
    if (children.length < this.ctx.config.feederDistricts) return;
    const gridId = this.data.feeders.get(feederCode)?.areaGridId ?? children[0]!.grid_id;
    const urgency = maxUrgency(...children.map((c) => c.urgency));
    const policy = this.policyEtr(gridId, urgency, at);
    const row = this.create({
      kind: 'feeder',
      origin: children.some((c) => c.origin === 'call') ? 'call' : 'meter',
      status: 'open',
      district_code: null,
      feeder_code: feederCode,
      district_codes: children.map((c) => c.district_code!).sort(),
      grid_id: gridId,
      parent_id: null,
      primary_request_id: null,
      opened_at: at,
      last_call_at: new Date(Math.max(...children.map((c) => c.last_call_at.getTime()))),
      call_count: children.reduce((n, c) => n + c.call_count, 0),
      urgency,
      etr: policy.etr,
      etr_source: 'policy',
      etr_base_ms: policy.baseMs,
      planned_outage_id: null,
    });
    row.evidence_at = new Date(Math.min(...children.map((c) => c.evidence_at.getTime())));
    for (const child of children) {
      child.parent_id = row.id;
      this.touch(child, 'nested');
    }
  }

  /**
   * Evidence of the outage at `at` (a call's report time, a meter's power-off): the incident's
   * interruption started no later, nor did its feeder parent's. Written with the next flush;
   * told on incidents.events only with another change.
   */
  noteEvidence(row: IncidentRow, at: Date): void {
    if (at.getTime() < row.opened_at.getTime() - EVIDENCE_LOOKBACK_MS) return;
    this.moveEvidence(row, at);
  }

  private moveEvidence(row: IncidentRow, at: Date): void {
    if (at.getTime() >= row.evidence_at.getTime()) return;
    row.evidence_at = at;
    this.quiet.add(row.id);
    const parent = row.parent_id ? this.rows.get(row.parent_id) : undefined;
    if (parent) this.moveEvidence(parent, at);
  }

  /**
   * A fault call joins the incident: its count, urgency (raised by the number of calls) and last
   * call; its feeder parent counts it too. Rule 8: a raised urgency is told at once; a count alone
   * is written now and told by the next change or by `tellCalls`.
   */
  addCall(row: IncidentRow, at: Date, urgency: Urgency, rules: GroupingRules): void {
    this.noteEvidence(row, at);
    this.countCall(row, at, maxUrgency(row.urgency, urgency, urgencyForCalls(row.call_count + 1, rules)));
    const parent = row.parent_id ? this.rows.get(row.parent_id) : undefined;
    if (parent && isOpen(parent)) this.countCall(parent, at, maxUrgency(parent.urgency, row.urgency));
  }

  private countCall(row: IncidentRow, at: Date, urgency: Urgency): void {
    row.call_count += 1;
    if (at > row.last_call_at) row.last_call_at = at;
    if (urgency !== row.urgency) {
      row.urgency = urgency;
      this.touch(row, 'calls');
    } else {
      this.quiet.add(row.id);
      row.updated_at = this.ctx.now();
    }
  }

  /** Rule 8: tells the call count of an incident whose count moved since its last incidents.events record. */
  tellCalls(row: IncidentRow): void {
    if (row.calls_told !== row.call_count) this.touch(row, 'calls');
  }

  /** Rule 2: the request becomes the primary of an open incident that has none; returns whether it did. */
  assignPrimary(row: IncidentRow, requestId: string): boolean {
    if (row.primary_request_id === requestId) return true;
    if (row.primary_request_id !== null || !isOpen(row)) return false;
    row.primary_request_id = requestId;
    if (row.status === 'open') row.status = 'dispatched';
    this.touch(row, 'primary');
    return true;
  }

  /**
   * The primary work order was cancelled (a duplicate ticket, a caller who withdrew): the incident
   * stays open for the calls merged into it, back to `open` without a primary, so intake opens
   * its own work order to carry the crew (rule 2). Answers whether it changed anything.
   */
  dropPrimary(row: IncidentRow, requestId: string): boolean {
    if (row.primary_request_id !== requestId || !isOpen(row)) return false;
    row.primary_request_id = null;
    row.status = 'open';
    this.touch(row, 'primary_cancelled');
    return true;
  }

  /** Rule 3: the primary work order moved on (forward only); open children without a primary of their own follow. */
  advance(row: IncidentRow, status: Extract<IncidentStatus, 'dispatched' | 'en_route' | 'arrived'>): void {
    if (!isOpen(row) || STATUS_RANK[status] <= STATUS_RANK[row.status]) return;
    row.status = status;
    this.touch(row, 'status');
    for (const child of this.children(row)) if (child.primary_request_id === null) this.advance(child, status);
  }

  /** Restores an open incident, its open children (feeder parent), and its parent once every sibling is restored. */
  restore(row: IncidentRow, at: Date, by: RestoredBy, unconfirmed: boolean): void {
    if (!isOpen(row)) return;
    row.status = 'restored';
    row.restored_at = at;
    row.restored_by = by;
    row.restoration_unconfirmed = unconfirmed;
    this.transitions.set(row.id, 'restored');
    this.touch(row, 'status');
    for (const child of this.children(row)) this.restore(child, at, 'parent', unconfirmed);
    const parent = row.parent_id ? this.rows.get(row.parent_id) : undefined;
    if (parent && isOpen(parent)) {
      const siblings = this.children(parent);
      if (siblings.every((s) => !isOpen(s))) {
        // Restored when its last child was, whatever order the children's events came in.
        const last = new Date(Math.max(...siblings.map((s) => (s.restored_at ?? at).getTime())));
        this.restore(
          parent,
          last,
          'children',
          siblings.some((s) => s.restoration_unconfirmed),
        );
      }
    }
  }

  /** The primary work order closed: the incident closes (restored first if it was not), with its children that have no primary. */
  close(row: IncidentRow, at: Date): void {
    if (row.status === 'closed') return;
    if (isOpen(row)) this.restore(row, at, 'crew', false);
    row.status = 'closed';
    this.transitions.set(row.id, 'closed');
    this.touch(row, 'status');
    for (const child of this.children(row)) if (child.primary_request_id === null) this.close(child, at);
  }

  /** The meters are all back on after a restoration reported while they were off: the interruption ended at `at` (reports). */
  confirmRestoration(row: IncidentRow, at: Date): void {
    if (!row.restoration_unconfirmed) return;
    row.restoration_unconfirmed = false;
    row.confirmed_at = at;
    this.touch(row, 'meters');
  }

  /** A hand-set ETR (`etrSource: manual`), never overwritten by a computed one. */
  setManualEtr(row: IncidentRow, etr: Date): void {
    row.etr = etr;
    row.etr_source = 'manual';
    this.touch(row, 'etr');
  }

  /** Storm mode changed: a policy ETR is the base window × the grid's factor now; manual and planned ones stay. */
  rescaleEtr(row: IncidentRow): void {
    if (!isOpen(row) || row.etr_source !== 'policy' || row.etr_base_ms === null) return;
    const etr = new Date(row.opened_at.getTime() + Math.round(row.etr_base_ms * this.stormFactor(row.grid_id)));
    if (row.etr?.getTime() === etr.getTime()) return;
    row.etr = etr;
    this.touch(row, 'etr');
  }

  /** The contract view of a row the book holds (after `flush` for new and changed ones). */
  incident(id: string): Incident | undefined {
    const row = this.rows.get(id);
    if (!row) return undefined;
    return toIncident(row, [...(this.childIds.get(id) ?? this.children(row).map((c) => c.id))]);
  }

  /**
   * Writes every new and changed incident in one statement and appends one incidents.events
   * record per incident to `outbox` (opened, restored, closed, else updated). Reads the customer
   * counts of new incidents and the children of changed feeder incidents first (one statement each, when needed).
   */
  async flush(client: PoolClient, outbox: OutboxRecord[], traceparent?: string): Promise<void> {
    const ids = [...new Set([...this.created, ...this.changes.keys(), ...this.quiet])];
    if (ids.length === 0) return;
    const rows = ids.map((id) => this.rows.get(id)!);
    await this.countAffected(
      client,
      rows.filter((row) => this.created.has(row.id)),
    );
    const feeders = rows.filter((row) => row.kind === 'feeder');
    if (feeders.length > 0) {
      const kids = await readChildIds(
        client,
        feeders.map((row) => row.id),
      );
      for (const feeder of feeders) this.childIds.set(feeder.id, new Set(this.children(feeder).map((c) => c.id)));
      for (const kid of kids) this.childIds.get(kid.parent_id)?.add(kid.id);
    }
    // Incidents that stop being open first (a new one of their 台区 may follow in this statement),
    // then parents before children (a child's parent_id refers to it).
    const order = (row: IncidentRow) => (!this.created.has(row.id) && !isOpen(row) ? 0 : row.kind === 'feeder' ? 1 : 2);
    rows.sort((a, b) => order(a) - order(b));
    const told = (row: IncidentRow) => this.created.has(row.id) || this.changes.has(row.id);
    for (const row of rows) if (told(row)) row.calls_told = row.call_count;
    await writeIncidentRows(client, rows);
    const time = this.ctx.now();
    for (const row of rows) {
      if (!told(row)) continue;
      const type: IncidentEventType = this.created.has(row.id)
        ? 'cn.griddispatch.incident.opened.v1'
        : this.transitions.get(row.id) === 'closed'
          ? 'cn.griddispatch.incident.closed.v1'
          : this.transitions.get(row.id) === 'restored'
            ? 'cn.griddispatch.incident.restored.v1'
            : 'cn.griddispatch.incident.updated.v1';
      const change = this.created.has(row.id) ? 'opened' : [...(this.changes.get(row.id) ?? [])].sort().join(',');
      outbox.push(incidentRecord(type, this.incident(row.id)!, change, time, traceparent ?? this.traces.get(row.id) ?? currentTraceparent()));
    }
    this.traces.clear();
    this.created.clear();
    this.changes.clear();
    this.quiet.clear();
    this.transitions.clear();
  }

  /** affectedCustomers: the customers of a district incident's 台区; of a feeder incident, of every 台区 of the feeder. */
  private async countAffected(client: PoolClient, rows: IncidentRow[]): Promise<void> {
    if (rows.length === 0) return;
    const codesOf = (row: IncidentRow) =>
      row.kind === 'feeder' && row.feeder_code ? (this.data.feeders.get(row.feeder_code)?.districtCodes ?? row.district_codes) : row.district_codes;
    const n = await countCustomers(client, [...new Set(rows.flatMap(codesOf))]);
    for (const row of rows) row.affected_customers = codesOf(row).reduce((sum, d) => sum + (n.get(d) ?? 0), 0);
  }
}
