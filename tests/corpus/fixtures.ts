import { randomBytes, randomUUID } from 'node:crypto';
import {
  buildEvent,
  serializeEvent,
  type CloudEvent,
  type DispatchAssignedV1,
  type DispatchUnroutableV1,
  type EventType,
  type IncidentEventV1,
  type RequestReceivedV1,
  type SlaBreachedV1,
  type SlaWarningV1,
  type WorkOrderUpdatedV1,
} from '@griddispatch/contracts';

// Valid events as their producers publish them, and the hostile records built from them, for the
// bad-input corpus. Everything here is deterministic in shape; ids are fresh per call.

const GRID = { id: 'HH-G03', name: '后湖3号网格', kind: 'district', areaType: 'rural', areaId: 'HH' } as const;

function at(minutesFromNow: number): string {
  return new Date(Date.now() + minutesFromNow * 60_000).toISOString();
}

export function requestData(id: string = randomUUID()): RequestReceivedV1 {
  return {
    id,
    source: '95598',
    externalId: `CORPUS-${id.slice(0, 8)}`,
    category: 'fault_repair',
    receivedAt: new Date().toISOString(),
    urgency: 'urgent',
    customer: { classes: ['aquaculture'] },
    // No grid data is loaded in the corpus' routing database: this request is unroutable, which
    // is a decision grid-routing records and publishes like any other.
    location: { districtCode: 'HH-TQ-017' },
  };
}

export function assignedData(workOrderId: string): DispatchAssignedV1 {
  return {
    workOrderId,
    request: requestData(workOrderId),
    grid: { ...GRID },
    resolvedBy: 'district',
    districtCode: 'HH-TQ-017',
    assignees: [{ staffId: 'S-mgr', name: '张伟', role: 'manager' }],
    contacts: [
      { staffId: 'S-mgr', name: '张伟', role: 'manager', phone: '+8613800000001' },
      { staffId: 'S-sup', name: '王强', role: 'supervisor', phone: '+8613800000003' },
    ],
    customerClasses: ['aquaculture'],
    homeVisit: false,
    incidentId: null,
    urgency: 'urgent',
    sla: {
      policy: 'aquaculture-circle',
      deadlines: { ack: at(5), arrive: at(30), resolve: at(120) },
      warnBeforeMs: 300_000,
      escalation: [{ afterMs: 0, notify: ['supervisor'] }],
      calendar: null,
    },
  };
}

export function unroutableData(workOrderId: string): DispatchUnroutableV1 {
  return { workOrderId, request: requestData(workOrderId), reason: 'no grid for district HH-TQ-999', fallbackDesk: 'station-desk' };
}

export function updatedData(workOrderId: string, type: 'en_route' | 'cancelled' = 'en_route'): WorkOrderUpdatedV1 {
  return { workOrderId, type, at: new Date().toISOString(), by: '张伟', previousStatus: 'assigned', status: type, gridId: GRID.id };
}

export function warningData(workOrderId: string): SlaWarningV1 {
  return { workOrderId, gridId: GRID.id, policy: 'aquaculture-circle', stage: 'arrive', deadline: at(30), remainingMs: 300_000, late: false };
}

export function breachedData(workOrderId: string, level = 1): SlaBreachedV1 {
  return {
    workOrderId,
    gridId: GRID.id,
    policy: 'aquaculture-circle',
    stage: 'arrive',
    deadline: at(-1),
    latenessMs: 60_000,
    level,
    notify: ['supervisor'],
    late: false,
  };
}

/**
 * An incident as grid-routing publishes it after a change (`incident.updated`: an opening
 * without a call would also open a work order in intake, which the corpus does not count on).
 * `callCount` varies with `level`, `updatedAt` with it too, so each valid event is the newest.
 */
export function incidentData(id: string, level = 1): IncidentEventV1 {
  const updatedAt = new Date(Date.parse('2026-12-01T00:00:00.000Z') + level * 1000).toISOString();
  return {
    id,
    status: 'dispatched',
    origin: 'call',
    kind: 'district',
    gridId: GRID.id,
    feederCode: 'HH-F03',
    districtCodes: ['HH-TQ-017'],
    parentId: null,
    childIds: [],
    callCount: level,
    affectedCustomers: 86,
    urgency: 'urgent',
    openedAt: '2026-12-01T00:00:00.000Z',
    etr: at(120),
    etrSource: 'policy',
    primaryRequestId: null,
    plannedOutageId: null,
    restoredAt: null,
    restorationUnconfirmed: false,
    updatedAt,
    change: 'calls',
  };
}

export type CorpusEventType = Extract<EventType, `cn.griddispatch.${'request' | 'dispatch' | 'workorder' | 'sla' | 'incident'}.${string}`>;

const SOURCE: Record<CorpusEventType, 'intake' | 'grid-routing' | 'sla-timer'> = {
  'cn.griddispatch.request.received.v1': 'intake',
  'cn.griddispatch.dispatch.assigned.v1': 'grid-routing',
  'cn.griddispatch.dispatch.unroutable.v1': 'grid-routing',
  'cn.griddispatch.workorder.updated.v1': 'intake',
  'cn.griddispatch.sla.warning.v1': 'sla-timer',
  'cn.griddispatch.sla.breached.v1': 'sla-timer',
  'cn.griddispatch.incident.opened.v1': 'grid-routing',
  'cn.griddispatch.incident.updated.v1': 'grid-routing',
  'cn.griddispatch.incident.restored.v1': 'grid-routing',
  'cn.griddispatch.incident.closed.v1': 'grid-routing',
};

/** A valid event of `type` about `workOrderId` (an incident's events: the incident id), as its producer would build it. */
export function validEvent(type: CorpusEventType, workOrderId: string, options: { id?: string; level?: number } = {}): CloudEvent {
  const data = (() => {
    switch (type) {
      case 'cn.griddispatch.request.received.v1':
        return requestData(workOrderId);
      case 'cn.griddispatch.dispatch.assigned.v1':
        return assignedData(workOrderId);
      case 'cn.griddispatch.dispatch.unroutable.v1':
        return unroutableData(workOrderId);
      case 'cn.griddispatch.workorder.updated.v1':
        return updatedData(workOrderId);
      case 'cn.griddispatch.sla.warning.v1':
        return warningData(workOrderId);
      case 'cn.griddispatch.sla.breached.v1':
        return breachedData(workOrderId, options.level);
      case 'cn.griddispatch.incident.updated.v1':
        return incidentData(workOrderId, options.level);
    }
  })();
  return buildEvent({ type, source: SOURCE[type], subject: workOrderId, data: data as never, ...(options.id ? { id: options.id } : {}) });
}

/** `size` characters of incompressible text (PostgreSQL cannot squeeze it into an index row). */
export function noise(size: number): string {
  return randomBytes(Math.ceil((size * 3) / 4))
    .toString('base64')
    .slice(0, size);
}

/** One hostile record: raw bytes for the topic, and what the corpus expects of it. */
export interface HostileRecord {
  name: string;
  value: Buffer | null;
  /** The event id the record carries, when it has one (it must then never be applied). */
  eventId?: string;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/**
 * Malformed records for a topic whose events are `type`, built around one valid event so each
 * differs from a good record in one way only. None of them may be applied by any consumer.
 */
export function malformedRecords(type: CorpusEventType, otherTopicType: CorpusEventType, workOrderId: string): HostileRecord[] {
  const base = validEvent(type, workOrderId);
  const text = serializeEvent(base);
  const envelope = JSON.parse(text) as Record<string, unknown>;
  const data = envelope.data as Record<string, unknown>;
  // request.received names its work order `id`, every other event `workOrderId`.
  const idKey = 'workOrderId' in data ? 'workOrderId' : 'id';
  const nested = 10_000;
  const deep = `${'{"a":'.repeat(nested)}1${'}'.repeat(nested)}`;
  const withoutField = (field: string) => {
    const copy: Record<string, unknown> = { ...envelope, id: randomUUID() };
    delete copy[field];
    return copy;
  };
  const fresh = () => ({ ...envelope, id: randomUUID() });
  const records: HostileRecord[] = [
    { name: 'empty value', value: Buffer.alloc(0) },
    { name: 'null value (tombstone)', value: null },
    { name: 'bytes that are not UTF-8', value: Buffer.from([0xff, 0xfe, 0xfd, 0x80, 0xc3, 0x28, 0xa0, 0xa1]) },
    {
      name: 'valid event with bytes that are not UTF-8 inside a string',
      value: (() => {
        const at = text.indexOf('"source":"') + '"source":"'.length;
        return Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from(text.slice(at))]);
      })(),
    },
    { name: 'truncated JSON', value: Buffer.from(text.slice(0, Math.floor(text.length / 2))) },
    { name: 'JSON array holding a valid event', value: Buffer.from(`[${text}]`) },
    { name: 'JSON number', value: Buffer.from('42') },
    { name: 'JSON string', value: json(type) },
    { name: 'JSON null', value: Buffer.from('null') },
    { name: 'CloudEvents specversion 0.3', value: json({ ...fresh(), specversion: '0.3' }) },
    { name: 'unknown event type', value: json({ ...fresh(), type: 'cn.griddispatch.grid.exploded.v1' }) },
    { name: 'event type of another topic', value: Buffer.from(serializeEvent(validEvent(otherTopicType, workOrderId))) },
    { name: 'data is a string', value: json({ ...fresh(), data: 'not an object' }) },
    { name: 'data with wrong field types', value: json({ ...fresh(), data: { ...data, [idKey]: 42 } }) },
    { name: 'data missing workOrderId', value: json({ ...fresh(), data: Object.fromEntries(Object.entries(data).filter(([k]) => k !== idKey)) }) },
    { name: 'envelope missing id', value: json(withoutField('id')) },
    { name: 'envelope missing type', value: json(withoutField('type')) },
    { name: 'envelope missing data', value: json(withoutField('data')) },
    { name: 'time that is no date (SQL injection)', value: json({ ...fresh(), time: "2026-11-23'; DROP TABLE intake.requests; --" }) },
    { name: 'type with SQL injection', value: json({ ...fresh(), type: `${type}'; DELETE FROM notification.deliveries; --` }) },
    { name: '1 MB of noise', value: Buffer.from(noise(1_000_000)) },
    { name: '1 MB event type', value: json({ ...fresh(), type: noise(1_000_000) }) },
    { name: `${nested} levels of nested arrays`, value: Buffer.from(`${'['.repeat(nested)}${']'.repeat(nested)}`) },
    {
      name: `work order id nested ${nested} levels deep`,
      value: Buffer.from(JSON.stringify({ ...fresh(), data: { ...data, [idKey]: '<deep>' } }).replace('"<deep>"', deep)),
    },
    { name: '__proto__ carrying the whole envelope', value: Buffer.from(`{"__proto__":${text},"polluted":true}`) },
    { name: 'constructor.prototype carrying the envelope', value: Buffer.from(`{"constructor":{"prototype":${text}}}`) },
    {
      name: '__proto__ carrying the data fields',
      value: Buffer.from(JSON.stringify({ ...fresh(), data: {} }).replace('"data":{}', `"data":{"__proto__":${JSON.stringify({ ...data, polluted: true })}}`)),
    },
  ];
  // The ids of the records that carry one, so the test can prove none of them was applied.
  return records.map((r) => {
    const id = topLevelId(r.value);
    return id ? { ...r, eventId: id } : r;
  });
}

function topLevelId(value: Buffer | null): string | undefined {
  if (!value || value.length > 2_000_000) return undefined;
  try {
    const parsed: unknown = JSON.parse(value.toString('utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'id' in parsed && typeof parsed.id === 'string') return parsed.id;
  } catch {
    // Not JSON: no id to look for.
  }
  return undefined;
}
