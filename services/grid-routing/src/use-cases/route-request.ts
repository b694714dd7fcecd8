import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import {
  buildEvent,
  CLOUDEVENTS_CONTENT_TYPE,
  serializeEvent,
  Topics,
  type CloudEvent,
  type CustomerClass,
  type DispatchAssignedV1,
  type RequestReceivedV1,
  type Urgency,
} from '@griddispatch/contracts';
import { enqueueOutbox, type OutboxRecord } from '@griddispatch/db';
import { planFor } from '@griddispatch/sla';
import { areaOf, chooseAssignees, contactsFor } from '../domain/directory.ts';
import { maxUrgency, urgencyForCalls, type GroupingRules } from '../domain/incident.ts';
import type { RoutingData } from '../routing-data.ts';
import type { RoutingContext } from './routing-context.ts';
import { SCHEMA } from '../schema-migrations.ts';

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

/** What the requests of one consumed batch share: read once, and their 台区 locked in one order. */
export interface RoutingBatch {
  data: RoutingData;
  /** Requests already decided (before this batch, or earlier in it). */
  routed: Set<string>;
  resolutions: Map<string, Resolution>;
  /** Locked in prepareBatch, with their incidents near the batch's calls read into memory. */
  lockedDistricts: Set<string>;
  incidents: Map<string, IncidentRow[]>;
  /** Incidents opened or joined by the batch, written by finishBatch. */
  touched: Map<string, IncidentRow>;
  /** Written by finishBatch, in one statement each. */
  outbox: OutboxRecord[];
  decisions: RoutedRow[];
}

interface RoutedRow {
  requestId: string;
  eventId: string;
  status: 'assigned' | 'unroutable';
  reason: string | null;
  gridId: string | null;
  incidentId: string | null;
  resolvedBy: ResolvedBy | null;
  request: RequestReceivedV1;
  routedAt: Date;
}

/**
 * Reads a batch's routing decisions, customers and data version once each, resolves every request
 * in memory, takes the incident locks of all its fault calls' 台区 in sorted order — so batches on
 * different partitions queue behind each other instead of deadlocking — and reads the incidents
 * those calls may join.
 */
export async function prepareBatch(ctx: RoutingContext, client: PoolClient, requests: RequestReceivedV1[]): Promise<RoutingBatch> {
  const data = await ctx.data.current(client);
  const { rows } = await client.query<{ request_id: string }>('SELECT request_id FROM routing.routed_requests WHERE request_id = ANY($1::text[])', [
    requests.map((r) => r.id),
  ]);
  const accounts = [...new Set(requests.flatMap((r) => (r.customer?.accountNo ? [r.customer.accountNo] : [])))];
  const customers = accounts.length > 0 ? await lookUpCustomers(client, accounts) : new Map<string, RegistryEntry>();
  const resolutions = new Map(requests.map((r) => [r.id, resolveWith(data, r, customers)]));
  const districts = new Set<string>();
  for (const r of requests) {
    const resolution = resolutions.get(r.id);
    if (r.category === 'fault_repair' && resolution?.ok && resolution.districtCode) districts.add(resolution.districtCode);
  }
  const incidents = new Map<string, IncidentRow[]>();
  if (districts.size > 0) {
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('routing.incident:' || d, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS t(d, n) ORDER BY n", [
      [...districts].sort(),
    ]);
    // Every incident a call of the batch could join: the open one of its 台区.
    const found = await client.query<IncidentRow>(
      `SELECT id, district_code, grid_id, opened_at, last_call_at, call_count, urgency FROM routing.incidents
        WHERE district_code = ANY($1::text[]) AND kind = 'district' AND status NOT IN ('restored', 'closed')`,
      [[...districts]],
    );
    for (const row of found.rows) incidents.set(row.district_code, [...(incidents.get(row.district_code) ?? []), row]);
  }
  return { data, routed: new Set(rows.map((row) => row.request_id)), resolutions, lockedDistricts: districts, incidents, touched: new Map(), outbox: [], decisions: [] };
}

interface IncidentRow {
  id: string;
  district_code: string;
  grid_id: string;
  opened_at: Date;
  last_call_at: Date;
  call_count: number;
  urgency: Urgency;
}

/** joinIncident on the batch's incidents in memory: the same choice, written once at the end. */
function joinBatchIncident(batch: RoutingBatch, districtCode: string, gridId: string, at: Date, urgency: Urgency, rules: GroupingRules): IncidentLink {
  const own = batch.incidents.get(districtCode) ?? [];
  let open: IncidentRow | undefined;
  for (const row of own) {
    if (!open || row.last_call_at > open.last_call_at) open = row;
  }
  if (open) {
    open.call_count += 1;
    open.urgency = maxUrgency(open.urgency, urgency, urgencyForCalls(open.call_count, rules));
    if (at > open.last_call_at) open.last_call_at = at;
    batch.touched.set(open.id, open);
    return { incidentId: open.id, incidentSize: open.call_count, urgency: open.urgency };
  }
  const row: IncidentRow = { id: randomUUID(), district_code: districtCode, grid_id: gridId, opened_at: at, last_call_at: at, call_count: 1, urgency: maxUrgency(urgency, urgencyForCalls(1, rules)) };
  batch.incidents.set(districtCode, [...own, row]);
  batch.touched.set(row.id, row);
  return { incidentId: row.id, incidentSize: 1, urgency: row.urgency };
}

async function writeIncidents(client: PoolClient, rows: IncidentRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(pick: (row: IncidentRow) => T) => rows.map(pick);
  await client.query(
    `INSERT INTO routing.incidents (id, district_code, grid_id, opened_at, last_call_at, call_count, urgency, district_codes)
     SELECT *, ARRAY[d] FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::int[], $7::text[]) AS u(i, d)
     ON CONFLICT (id) DO UPDATE SET call_count = EXCLUDED.call_count, urgency = EXCLUDED.urgency, last_call_at = EXCLUDED.last_call_at`,
    [col((r) => r.id), col((r) => r.district_code), col((r) => r.grid_id), col((r) => r.opened_at), col((r) => r.last_call_at), col((r) => r.call_count), col((r) => r.urgency)],
  );
}

/** The batch's dispatch events and routing decisions, one statement each. */
export async function finishBatch(client: PoolClient, batch: RoutingBatch): Promise<void> {
  await writeIncidents(client, [...batch.touched.values()]);
  await enqueueOutbox(client, SCHEMA, batch.outbox);
  await writeDecisions(client, batch.decisions);
}

async function writeDecisions(client: PoolClient, rows: RoutedRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(pick: (row: RoutedRow) => T) => rows.map(pick);
  await client.query(
    `INSERT INTO routing.routed_requests (request_id, event_id, status, reason, grid_id, incident_id, resolved_by, request, routed_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::timestamptz[])`,
    [
      col((r) => r.requestId),
      col((r) => r.eventId),
      col((r) => r.status),
      col((r) => r.reason),
      col((r) => r.gridId),
      col((r) => r.incidentId),
      col((r) => r.resolvedBy),
      col((r) => JSON.stringify(r.request)),
      col((r) => r.routedAt),
    ],
  );
}

interface IncidentLink {
  incidentId: string;
  incidentSize: number;
  urgency: Urgency;
}

/**
 * Trouble-call grouping: a fault call joins the 台区's incident whose latest call lies within the
 * window, else opens a new one. Serialised per 台区 with a transaction-scoped advisory lock, so
 * concurrent calls from one 台区 on different partitions cannot open two incidents.
 */
async function joinIncident(client: PoolClient, districtCode: string, gridId: string, at: Date, urgency: Urgency, rules: GroupingRules): Promise<IncidentLink> {
  await client.query("SELECT pg_advisory_xact_lock(hashtextextended('routing.incident:' || $1, 0))", [districtCode]);
  const { rows } = await client.query<{ id: string; last_call_at: Date; call_count: number; urgency: Urgency }>(
    `SELECT id, last_call_at, call_count, urgency FROM routing.incidents
      WHERE district_code = $1 AND kind = 'district' AND status NOT IN ('restored', 'closed')`,
    [districtCode],
  );
  const open = rows[0];
  if (open) {
    const calls = open.call_count + 1;
    const raised = maxUrgency(open.urgency, urgency, urgencyForCalls(calls, rules));
    await client.query('UPDATE routing.incidents SET call_count = $2, urgency = $3, last_call_at = greatest(last_call_at, $4) WHERE id = $1', [
      open.id,
      calls,
      raised,
      at,
    ]);
    return { incidentId: open.id, incidentSize: calls, urgency: raised };
  }
  const id = randomUUID();
  const level = maxUrgency(urgency, urgencyForCalls(1, rules));
  await client.query(
    'INSERT INTO routing.incidents (id, district_code, grid_id, opened_at, last_call_at, call_count, urgency) VALUES ($1, $2, $3, $4, $4, 1, $5)',
    [id, districtCode, gridId, at, level],
  );
  return { incidentId: id, incidentSize: 1, urgency: level };
}

function outboxRecord(topic: string, key: string, event: CloudEvent): OutboxRecord {
  const headers: Record<string, string> = { 'content-type': CLOUDEVENTS_CONTENT_TYPE };
  if (event.traceparent) headers.traceparent = event.traceparent;
  return { topic, key, value: serializeEvent(event), headers };
}

export interface AssignOptions {
  /** When the people on duty are looked up: the request's receipt, or now for a re-route. */
  dutyAt: Date;
  traceparent?: string | undefined;
  /** A consumed batch: its locks are taken and its outbox rows are written once, at its end. */
  batch?: RoutingBatch | undefined;
}

/** Builds the assignment for a resolved request and writes the incident and outbox rows. */
export async function assign(
  ctx: RoutingContext,
  client: PoolClient,
  data: RoutingData,
  request: RequestReceivedV1,
  resolution: Extract<Resolution, { ok: true }>,
  options: AssignOptions,
): Promise<{ incidentId: string | null; event: CloudEvent<'cn.griddispatch.dispatch.assigned.v1'> }> {
  const { directory } = data;
  const grid = directory.grids.get(resolution.gridId);
  if (!grid) throw new Error(`grid ${resolution.gridId} resolved by the index is missing from the directory`);
  const receivedAt = new Date(request.receivedAt);
  const classes = [...new Set([...(request.customer?.classes ?? []), ...resolution.registryClasses])].sort() as CustomerClass[];

  let incident: IncidentLink | null = null;
  if (request.category === 'fault_repair' && resolution.districtCode) {
    const rules = { windowMs: ctx.config.incidentWindowMs, urgentCalls: ctx.config.incidentUrgentCalls, criticalCalls: ctx.config.incidentCriticalCalls };
    incident = options.batch?.lockedDistricts.has(resolution.districtCode)
      ? joinBatchIncident(options.batch, resolution.districtCode, grid.id, receivedAt, request.urgency, rules)
      : await joinIncident(client, resolution.districtCode, grid.id, receivedAt, request.urgency, rules);
  }
  const urgency = maxUrgency(request.urgency, incident?.urgency ?? 'normal');
  const sla = planFor(ctx.policy, { category: request.category, customerClasses: classes, urgency, areaType: grid.areaType, gridId: grid.id }, receivedAt);
  const area = areaOf(directory, grid.id);
  const payload: DispatchAssignedV1 = {
    workOrderId: request.id,
    request,
    grid: { id: grid.id, name: grid.name, kind: grid.kind, areaType: grid.areaType, ...(area ? { areaId: area.id } : {}) },
    resolvedBy: resolution.resolvedBy,
    districtCode: resolution.districtCode,
    assignees: chooseAssignees(directory, { gridId: grid.id, category: request.category, at: options.dutyAt, timeZone: ctx.config.timeZone }),
    contacts: contactsFor(directory, grid.id),
    customerClasses: classes,
    homeVisit: classes.includes('vulnerable'),
    incidentId: incident?.incidentId ?? null,
    ...(incident ? { incidentSize: incident.incidentSize } : {}),
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
  await emit(client, options.batch, outboxRecord(Topics.dispatchAssigned, grid.id, event));
  return { incidentId: incident?.incidentId ?? null, event };
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
  await emit(client, batch, outboxRecord(Topics.dispatchUnroutable, request.id, event));
  return event;
}

async function emit(client: PoolClient, batch: RoutingBatch | undefined, record: OutboxRecord): Promise<void> {
  if (batch) batch.outbox.push(record);
  else await enqueueOutbox(client, SCHEMA, [record]);
}

/**
 * Routes one received request inside the caller's transaction (the consumer has already recorded
 * the event id in the inbox there). A request this service already decided — e.g. re-published
 * under a new event id — is left alone: it emits nothing new. Deliveries of one request share its
 * partition (key = request id) and are handled one after the other; should two ever race, the
 * routed_requests primary key fails the second transaction and its retry finds the decision.
 */
export async function routeRequest(ctx: RoutingContext, client: PoolClient, request: RequestReceivedV1, meta: RequestMeta, batch?: RoutingBatch): Promise<RouteOutcome> {
  if (batch) {
    if (batch.routed.has(request.id)) return { status: 'duplicate' };
    batch.routed.add(request.id);
  } else {
    const existing = await client.query('SELECT 1 FROM routing.routed_requests WHERE request_id = $1', [request.id]);
    if (existing.rowCount) return { status: 'duplicate' };
  }
  const data = batch?.data ?? (await ctx.data.current(client));
  const resolution = batch?.resolutions.get(request.id) ?? (await resolveRequest(client, data, request));
  const routedAt = ctx.now();
  const decided = { requestId: request.id, eventId: meta.eventId, request, routedAt };
  if (!resolution.ok) {
    const event = await emitUnroutable(ctx, client, request, resolution.reason, meta.traceparent, batch);
    await recordDecision(client, batch, { ...decided, status: 'unroutable', reason: resolution.reason, gridId: null, incidentId: null, resolvedBy: null });
    return { status: 'unroutable', reason: resolution.reason, event };
  }
  const { incidentId, event } = await assign(ctx, client, data, request, resolution, { dutyAt: new Date(request.receivedAt), traceparent: meta.traceparent, batch });
  await recordDecision(client, batch, { ...decided, status: 'assigned', reason: null, gridId: resolution.gridId, incidentId, resolvedBy: resolution.resolvedBy });
  return { status: 'assigned', gridId: resolution.gridId, incidentId, event };
}

async function recordDecision(client: PoolClient, batch: RoutingBatch | undefined, row: RoutedRow): Promise<void> {
  if (batch) batch.decisions.push(row);
  else await writeDecisions(client, [row]);
}
