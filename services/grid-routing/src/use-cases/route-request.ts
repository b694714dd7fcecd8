import type { PoolClient } from 'pg';
import {
  buildEvent,
  Topics,
  type Assignee,
  type Category,
  type CloudEvent,
  type Contact,
  type CustomerClass,
  type DispatchAssignedV1,
  type IncidentRole,
  type RequestReceivedV1,
  type Urgency,
} from '@griddispatch/contracts';
import { enqueueOutbox, eventRecord, type OutboxRecord } from '@griddispatch/db';
import { planFor } from '@griddispatch/sla';
import { areaOf, chooseAssignees, contactsFor, type Directory } from '../domain/directory.ts';
import { maxUrgency } from '../domain/incident.ts';
import { IncidentBook } from './incident-book.ts';
import type { IncidentRow } from './incident-row.ts';
import type { RoutingData } from '../routing-data.ts';
import type { RoutingContext } from './routing-context.ts';
import { SCHEMA } from '../schema.ts';
import { recordDispatches, timedDispatch, type TimedDispatch } from './work-order-times.ts';

export type { RoutingContext } from './routing-context.ts';

export type ResolvedBy = DispatchAssignedV1['resolvedBy'];

export type Resolution =
  | { ok: true; gridId: string; resolvedBy: ResolvedBy; districtCode: string | null; registryClasses: string[] }
  | { ok: false; reason: string; registryClasses: string[] };

export type RouteOutcome =
  | { status: 'duplicate' }
  | { status: 'assigned'; gridId: string; incidentId: string | null; event: CloudEvent<'cn.griddispatch.dispatch.assigned.v1'> }
  | { status: 'unroutable'; reason: string; event: CloudEvent<'cn.griddispatch.dispatch.unroutable.v1'> };

interface RequestMeta {
  eventId: string;
  traceparent?: string | undefined;
}

/**
 * The order: customer account → its 台区 → grid; the 台区 code; the point (inside a
 * polygon, else the nearest grid within GD_NEAREST_METERS); the community code → area grid.
 */
export async function resolveRequest(client: PoolClient, data: RoutingData, request: RequestReceivedV1, customers?: CustomerRegistry): Promise<Resolution> {
  const accountNo = request.customer?.accountNo;
  const registry = customers ?? (accountNo ? await lookUpCustomers(client, [accountNo]) : new Map());
  return resolveWith(data, request, registry);
}

interface RegistryEntry {
  districtCode: string;
  classes: string[];
}

/** Customer registry entries by account number, for the accounts looked up. */
type CustomerRegistry = Map<string, RegistryEntry>;

async function lookUpCustomers(client: PoolClient, accountNos: string[]): Promise<CustomerRegistry> {
  const { rows } = await client.query<{ account_no: string; district_code: string; classes: string[] }>(
    'SELECT account_no, district_code, classes FROM routing.customers WHERE account_no = ANY($1::text[])',
    [accountNos],
  );
  return new Map(rows.map((row) => [row.account_no, { districtCode: row.district_code, classes: row.classes }]));
}

function resolveWith(data: RoutingData, request: RequestReceivedV1, customers: CustomerRegistry): Resolution {
  const tried: string[] = [];
  let accountDistrictCode: string | undefined;
  let registryClasses: string[] = [];
  const accountNo = request.customer?.accountNo;
  if (accountNo) {
    const entry = customers.get(accountNo);
    if (entry) {
      accountDistrictCode = entry.districtCode;
      registryClasses = entry.classes;
    } else tried.push(`account ${accountNo} is not in the customer registry`);
  }
  const { districtCode, lon, lat, communityCode } = request.location;
  if (accountDistrictCode || districtCode || (lon !== undefined && lat !== undefined) || communityCode) {
    const r = data.index.resolve({ accountDistrictCode, districtCode, lon, lat, communityCode });
    if (r.ok) return { ok: true, gridId: r.gridId, resolvedBy: r.resolvedBy, districtCode: r.districtCode, registryClasses };
    tried.push(r.reason);
  }
  if (tried.length === 0) tried.push('the request names no account, 台区, point or community');
  return { ok: false, reason: tried.join('; '), registryClasses };
}

/** What the requests of one consumed batch share: read once, and their feeders locked in one order. */
export interface RoutingBatch {
  data: RoutingData;
  /** Requests already decided (before this batch, or earlier in it). */
  routed: Set<string>;
  resolutions: Map<string, Resolution>;
  /** The incidents the batch's calls may open or join, locked and read in prepareBatch, written by finishBatch. */
  book: IncidentBook;
  /** Written by finishBatch, in one statement each. */
  outbox: OutboxRecord[];
  decisions: RoutedRow[];
  /** Work orders dispatched with a clock of their own: receipt and arrive deadline, for the response report. */
  timed: TimedDispatch[];
  /** Who a grid's calls of a category go to in a minute (peopleFor), worked out once per batch. */
  people: Map<string, People>;
}

interface RoutedRow {
  requestId: string;
  eventId: string;
  status: 'assigned' | 'unroutable';
  reason: string | null;
  gridId: string | null;
  incidentId: string | null;
  role: IncidentRole | null;
  resolvedBy: ResolvedBy | null;
  request: RequestReceivedV1;
  routedAt: Date;
}

/** The 台区 whose incidents a request may open or join: a fault call's, or the one of the incident it names. */
function incidentDistrict(request: RequestReceivedV1, resolution: Resolution | undefined): string | null {
  if (!resolution?.ok || !resolution.districtCode) return null;
  return request.category === 'fault_repair' || request.incidentId ? resolution.districtCode : null;
}

/** Locks the feeders of the requests' 台区 (sorted) and reads the incidents they may open or join. */
async function loadBook(
  ctx: RoutingContext,
  client: PoolClient,
  data: RoutingData,
  requests: readonly RequestReceivedV1[],
  resolutions: Map<string, Resolution>,
): Promise<IncidentBook> {
  const book = new IncidentBook(ctx, data);
  const districts = new Set<string>();
  for (const r of requests) {
    const d = incidentDistrict(r, resolutions.get(r.id));
    if (d) districts.add(d);
  }
  const ids = [...new Set(requests.flatMap((r) => (r.incidentId ? [r.incidentId] : [])))];
  if (districts.size > 0 || ids.length > 0) await book.loadForDistricts(client, [...districts], ids);
  // Rule 7: 台区 without an open incident (or only a planned one) may be in a planned outage.
  const unplanned = [...districts].filter((d) => book.openIn(d)?.origin !== 'call' && book.openIn(d)?.origin !== 'meter');
  if (ctx.plannedOutages && unplanned.length > 0) {
    const times = requests.map((r) => Date.parse(r.receivedAt));
    book.setPlanned(await ctx.plannedOutages(client, unplanned, new Date(Math.min(...times)), new Date(Math.max(...times))));
  }
  return book;
}

/**
 * Reads a batch's routing decisions, customers and data version once each, resolves every request
 * in memory, takes the incident locks of all its fault calls' feeders in sorted order — so batches
 * on different partitions queue behind each other instead of deadlocking — and reads the
 * incidents those calls may join or nest under.
 */
export async function prepareBatch(ctx: RoutingContext, client: PoolClient, requests: RequestReceivedV1[]): Promise<RoutingBatch> {
  const data = await ctx.data.current(client);
  const { rows } = await client.query<{ request_id: string }>('SELECT request_id FROM routing.routed_requests WHERE request_id = ANY($1::text[])', [
    requests.map((r) => r.id),
  ]);
  const routed = new Set(rows.map((row) => row.request_id));
  const accounts = [...new Set(requests.flatMap((r) => (r.customer?.accountNo && !routed.has(r.id) ? [r.customer.accountNo] : [])))];
  const customers = accounts.length > 0 ? await lookUpCustomers(client, accounts) : new Map<string, RegistryEntry>();
  const fresh = requests.filter((r) => !routed.has(r.id));
  const resolutions = new Map(fresh.map((r) => [r.id, resolveWith(data, r, customers)]));
  const book = await loadBook(ctx, client, data, fresh, resolutions);
  return { data, routed, resolutions, book, outbox: [], decisions: [], timed: [], people: new Map() };
}

/** The batch's incidents, dispatch events and routing decisions, one statement each. */
export async function finishBatch(client: PoolClient, batch: RoutingBatch): Promise<void> {
  const incidentEvents: OutboxRecord[] = [];
  await batch.book.flush(client, incidentEvents);
  await enqueueOutbox(client, SCHEMA, [...incidentEvents, ...batch.outbox]);
  await writeDecisions(client, batch.decisions);
  await recordDispatches(client, batch.timed);
}

async function writeDecisions(client: PoolClient, rows: RoutedRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(pick: (row: RoutedRow) => T) => rows.map(pick);
  await client.query(
    `INSERT INTO routing.routed_requests (request_id, event_id, status, reason, grid_id, incident_id, role, resolved_by, request, routed_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[], $10::timestamptz[])`,
    [
      col((r) => r.requestId),
      col((r) => r.eventId),
      col((r) => r.status),
      col((r) => r.reason),
      col((r) => r.gridId),
      col((r) => r.incidentId),
      col((r) => r.role),
      col((r) => r.resolvedBy),
      col((r) => JSON.stringify(r.request)),
      col((r) => r.routedAt),
    ],
  );
}

export interface IncidentLink {
  incidentId: string;
  /** Calls in the incident so far (absent while it has none: an incident's own work order). */
  incidentSize: number | undefined;
  urgency: Urgency;
  role: IncidentRole;
  etr: string;
}

/**
 * The incident rules of a routed request (docs/architecture.md#incidents): a request naming its incident becomes that
 * incident's primary (rule 2); a fault call joins its 台区's open incident whatever its age, as
 * `merged`, or opens one and is its primary — unless it opens under an open feeder incident, whose
 * work order carries the crew (rules 1 and 4), or inside a planned outage's window, whose incident
 * has no work order at all (rule 7; a planned incident past its window is closed first).
 */
function linkIncident(
  ctx: RoutingContext,
  book: IncidentBook,
  request: RequestReceivedV1,
  districtCode: string | null,
  gridId: string,
  at: Date,
): IncidentLink | null {
  const named = request.incidentId ? book.get(request.incidentId) : undefined;
  if (named) {
    const role: IncidentRole = book.assignPrimary(named, request.id) ? 'primary' : 'merged';
    return { incidentId: named.id, incidentSize: named.call_count > 0 ? named.call_count : undefined, urgency: named.urgency, role, etr: etrOf(named) };
  }
  if (request.category !== 'fault_repair' || !districtCode) return null;
  const rules = { windowMs: ctx.config.incidentWindowMs, urgentCalls: ctx.config.incidentUrgentCalls, criticalCalls: ctx.config.incidentCriticalCalls };
  let row = book.openIn(districtCode);
  if (row && book.endPlannedIfOver(row, at)) row = undefined;
  if (!row) {
    const planned = book.plannedAt(districtCode, at);
    row = planned
      ? book.open({
          districtCode,
          gridId,
          origin: 'planned',
          at,
          urgency: request.urgency,
          primaryRequestId: null,
          plannedOutageId: planned.id,
          etr: planned.end,
        })
      : book.open({ districtCode, gridId, origin: 'call', at, urgency: request.urgency, primaryRequestId: request.id });
  }
  book.addCall(row, at, request.urgency, rules);
  // The caller's own report time, when earlier, is when the outage was known (docs/architecture.md#reports).
  if (request.reportedAt) book.noteEvidence(row, new Date(request.reportedAt));
  const role: IncidentRole = row.primary_request_id === request.id ? 'primary' : 'merged';
  return { incidentId: row.id, incidentSize: row.call_count, urgency: row.urgency, role, etr: etrOf(row) };
}

const etrOf = (row: IncidentRow) => (row.etr ?? row.opened_at).toISOString();

interface People {
  assignees: Assignee[];
  contacts: Contact[];
}

/**
 * The assignees and contacts of a grid's calls of one category: the same for every call of the
 * batch in the same minute (rosters are read to the minute), so a storm's calls on one grid share
 * one answer. Shared between the batch's events: read-only.
 */
function peopleFor(ctx: RoutingContext, directory: Directory, gridId: string, category: Category, at: Date, batch: RoutingBatch | undefined): People {
  const key = `${gridId}|${category}|${Math.floor(at.getTime() / 60_000)}`;
  const known = batch?.people.get(key);
  if (known) return known;
  const people = {
    assignees: chooseAssignees(directory, { gridId, category, at, timeZone: ctx.config.timeZone }),
    contacts: contactsFor(directory, gridId),
  };
  batch?.people.set(key, people);
  return people;
}

export interface AssignOptions {
  /** When the people on duty are looked up: the request's receipt, or now for a re-route. */
  dutyAt: Date;
  traceparent?: string | undefined;
  /** A consumed batch: its locks are taken and its outbox rows are written once, at its end. */
  batch?: RoutingBatch | undefined;
}

export interface Assignment {
  incidentId: string | null;
  role: IncidentRole | null;
  event: CloudEvent<'cn.griddispatch.dispatch.assigned.v1'>;
}

/**
 * Builds the assignment for a resolved request, opening or joining its incident. Outside a
 * consumed batch (a re-route) it locks, reads and writes the incident itself.
 */
export async function assign(
  ctx: RoutingContext,
  client: PoolClient,
  data: RoutingData,
  request: RequestReceivedV1,
  resolution: Extract<Resolution, { ok: true }>,
  options: AssignOptions,
): Promise<Assignment> {
  const { directory } = data;
  const grid = directory.grids.get(resolution.gridId);
  if (!grid) throw new Error(`grid ${resolution.gridId} resolved by the index is missing from the directory`);
  const receivedAt = new Date(request.receivedAt);
  const classes = [...new Set([...(request.customer?.classes ?? []), ...resolution.registryClasses])].sort() as CustomerClass[];

  const book = options.batch?.book ?? (await loadBook(ctx, client, data, [request], new Map([[request.id, resolution]])));
  const incident = linkIncident(ctx, book, request, incidentDistrict(request, resolution), grid.id, receivedAt);
  const urgency = maxUrgency(request.urgency, incident?.urgency ?? 'normal');
  const sla = planFor(ctx.policy, { category: request.category, customerClasses: classes, urgency, areaType: grid.areaType, gridId: grid.id }, receivedAt);
  const area = areaOf(directory, grid.id);
  const { assignees, contacts } = peopleFor(ctx, directory, grid.id, request.category, options.dutyAt, options.batch);
  const payload: DispatchAssignedV1 = {
    workOrderId: request.id,
    request,
    grid: { id: grid.id, name: grid.name, kind: grid.kind, areaType: grid.areaType, ...(area ? { areaId: area.id } : {}) },
    resolvedBy: resolution.resolvedBy,
    districtCode: resolution.districtCode,
    assignees,
    contacts,
    customerClasses: classes,
    homeVisit: classes.includes('vulnerable'),
    incidentId: incident?.incidentId ?? null,
    ...(incident?.incidentSize ? { incidentSize: incident.incidentSize } : {}),
    ...(incident ? { role: incident.role, etr: incident.etr } : {}),
    urgency,
    sla,
  };
  const event = buildEvent({
    type: 'cn.griddispatch.dispatch.assigned.v1',
    source: 'grid-routing',
    subject: request.id,
    data: payload,
    time: ctx.now(),
    traceparent: options.traceparent,
  });
  const record = eventRecord(Topics.dispatchAssigned, grid.id, event);
  if (options.batch) options.batch.outbox.push(record);
  else {
    const records: OutboxRecord[] = [];
    await book.flush(client, records, options.traceparent);
    await enqueueOutbox(client, SCHEMA, [...records, record]);
  }
  return { incidentId: incident?.incidentId ?? null, role: incident?.role ?? null, event };
}

export async function emitUnroutable(
  ctx: RoutingContext,
  client: PoolClient,
  request: RequestReceivedV1,
  reason: string,
  traceparent: string | undefined,
  batch?: RoutingBatch,
): Promise<CloudEvent<'cn.griddispatch.dispatch.unroutable.v1'>> {
  const event = buildEvent({
    type: 'cn.griddispatch.dispatch.unroutable.v1',
    source: 'grid-routing',
    subject: request.id,
    data: { workOrderId: request.id, request, reason, fallbackDesk: ctx.config.fallbackDesk },
    time: ctx.now(),
    traceparent,
  });
  await emit(client, batch, eventRecord(Topics.dispatchUnroutable, request.id, event));
  return event;
}

async function emit(client: PoolClient, batch: RoutingBatch | undefined, record: OutboxRecord): Promise<void> {
  if (batch) batch.outbox.push(record);
  else await enqueueOutbox(client, SCHEMA, [record]);
}

/**
 * Routes one received request inside the caller's transaction (the consumer has already recorded
 * the event id in the inbox there); without a batch it is a batch of one. A request this service
 * already decided — e.g. re-published under a new event id — is left alone: it emits nothing new.
 * Deliveries of one request share its partition (key = request id) and are handled one after the
 * other; should two ever race, the routed_requests primary key fails the second transaction and
 * its retry finds the decision.
 */
export async function routeRequest(
  ctx: RoutingContext,
  client: PoolClient,
  request: RequestReceivedV1,
  meta: RequestMeta,
  batch?: RoutingBatch,
): Promise<RouteOutcome> {
  if (!batch) {
    const own = await prepareBatch(ctx, client, [request]);
    const outcome = await routeRequest(ctx, client, request, meta, own);
    await finishBatch(client, own);
    return outcome;
  }
  if (batch.routed.has(request.id)) return { status: 'duplicate' };
  batch.routed.add(request.id);
  const resolution = batch.resolutions.get(request.id) ?? (await resolveRequest(client, batch.data, request));
  const routedAt = ctx.now();
  const decided = { requestId: request.id, eventId: meta.eventId, request, routedAt };
  if (!resolution.ok) {
    const event = await emitUnroutable(ctx, client, request, resolution.reason, meta.traceparent, batch);
    batch.decisions.push({ ...decided, status: 'unroutable', reason: resolution.reason, gridId: null, incidentId: null, role: null, resolvedBy: null });
    return { status: 'unroutable', reason: resolution.reason, event };
  }
  const { incidentId, role, event } = await assign(ctx, client, batch.data, request, resolution, {
    dutyAt: new Date(request.receivedAt),
    traceparent: meta.traceparent,
    batch,
  });
  const timed = timedDispatch(event);
  if (timed) batch.timed.push(timed);
  batch.decisions.push({ ...decided, status: 'assigned', reason: null, gridId: resolution.gridId, incidentId, role, resolvedBy: resolution.resolvedBy });
  return { status: 'assigned', gridId: resolution.gridId, incidentId, event };
}
