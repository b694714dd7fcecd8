import { randomUUID } from 'node:crypto';
import {
  EventTypeName,
  buildEvent,
  type CloudEvent,
  type DispatchAssignedV1,
  type DispatchUnroutableV1,
  type IncidentEventV1,
  type SlaBreachedV1,
  type SlaWarningV1,
  type WorkOrderUpdatedV1,
} from '@griddispatch/contracts';

// Events as the other services emit them, for tests and the benchmark: the 后湖 aquaculture
// outage of docs/architecture.md#sla-policy (received 14:02 Beijing time, 30-minute arrival circle).

export const RECEIVED_AT = '2026-11-23T06:02:00.000Z';

export function assignedData(overrides: Partial<DispatchAssignedV1> = {}): DispatchAssignedV1 {
  const id = overrides.workOrderId ?? randomUUID();
  return {
    workOrderId: id,
    request: {
      id,
      source: '95598',
      externalId: `GD${id.slice(0, 8)}`,
      category: 'fault_repair',
      receivedAt: RECEIVED_AT,
      urgency: 'urgent',
      customer: { accountNo: '3300012345', classes: ['aquaculture'] },
      location: { districtCode: 'HH-TQ-017' },
    },
    grid: { id: 'HH-G03', name: '后湖3号网格', kind: 'district', areaType: 'rural', areaId: 'HH' },
    resolvedBy: 'account',
    districtCode: 'HH-TQ-017',
    assignees: [{ staffId: 'S-mgr', name: '张伟', role: 'manager' }],
    contacts: [
      { staffId: 'S-mgr', name: '张伟', role: 'manager', phone: '+8613800000001', wecomUserId: 'zhangwei' },
      { staffId: 'S-ast', name: '李娜', role: 'assistant', phone: '13800000002' },
      { staffId: 'S-sup', name: '王强', role: 'supervisor', phone: '138-0000-0003', wecomUserId: 'wangqiang' },
      { staffId: 'S-crew', name: '抢修一班', role: 'repair_crew', phone: '+86 138 0000 0004' },
    ],
    customerClasses: ['aquaculture'],
    homeVisit: false,
    incidentId: null,
    urgency: 'urgent',
    sla: {
      policy: 'aquaculture-circle',
      deadlines: { ack: '2026-11-23T06:07:00.000Z', arrive: '2026-11-23T06:32:00.000Z', resolve: '2026-11-23T08:02:00.000Z' },
      warnBeforeMs: 300_000,
      escalation: [
        { afterMs: 0, notify: ['assistant', 'repair_crew'] },
        { afterMs: 900_000, notify: ['supervisor'] },
      ],
      calendar: null,
    },
    ...overrides,
  };
}

export function unroutableData(overrides: Partial<DispatchUnroutableV1> = {}): DispatchUnroutableV1 {
  const id = overrides.workOrderId ?? randomUUID();
  return {
    workOrderId: id,
    request: {
      id,
      source: '12345',
      externalId: `SG${id.slice(0, 8)}`,
      category: 'complaint',
      receivedAt: RECEIVED_AT,
      urgency: 'normal',
      location: { address: '天城镇某街道' },
    },
    reason: 'no grid contains the reported location',
    fallbackDesk: '综合管控平台',
    ...overrides,
  };
}

export function updatedData(workOrderId: string, overrides: Partial<WorkOrderUpdatedV1> = {}): WorkOrderUpdatedV1 {
  return {
    workOrderId,
    type: 'arrived',
    at: '2026-11-23T06:25:00.000Z',
    by: 'S-mgr',
    previousStatus: 'en_route',
    status: 'arrived',
    gridId: 'HH-G03',
    ...overrides,
  };
}

export function warningData(workOrderId: string, overrides: Partial<SlaWarningV1> = {}): SlaWarningV1 {
  return {
    workOrderId,
    gridId: 'HH-G03',
    policy: 'aquaculture-circle',
    stage: 'arrive',
    deadline: '2026-11-23T06:32:00.000Z',
    remainingMs: 300_000,
    late: false,
    ...overrides,
  };
}

export function breachedData(workOrderId: string, overrides: Partial<SlaBreachedV1> = {}): SlaBreachedV1 {
  return {
    workOrderId,
    gridId: 'HH-G03',
    policy: 'aquaculture-circle',
    stage: 'arrive',
    deadline: '2026-11-23T06:32:00.000Z',
    latenessMs: 0,
    level: 1,
    notify: ['assistant', 'repair_crew'],
    late: false,
    ...overrides,
  };
}

export function assignedEvent(data: DispatchAssignedV1 = assignedData()): CloudEvent<typeof EventTypeName.dispatchAssigned> {
  return buildEvent({ type: EventTypeName.dispatchAssigned, source: 'grid-routing', subject: data.workOrderId, data });
}

export function unroutableEvent(data: DispatchUnroutableV1 = unroutableData()): CloudEvent<typeof EventTypeName.dispatchUnroutable> {
  return buildEvent({ type: EventTypeName.dispatchUnroutable, source: 'grid-routing', subject: data.workOrderId, data });
}

export function updatedEvent(data: WorkOrderUpdatedV1): CloudEvent<typeof EventTypeName.workorderUpdated> {
  return buildEvent({ type: EventTypeName.workorderUpdated, source: 'intake', subject: data.workOrderId, data });
}

export function warningEvent(data: SlaWarningV1): CloudEvent<typeof EventTypeName.slaWarning> {
  return buildEvent({ type: EventTypeName.slaWarning, source: 'sla-timer', subject: data.workOrderId, data });
}

export function breachedEvent(data: SlaBreachedV1): CloudEvent<typeof EventTypeName.slaBreached> {
  return buildEvent({ type: EventTypeName.slaBreached, source: 'sla-timer', subject: data.workOrderId, data });
}

/** A district incident of 台区 HH-TQ-017 as grid-routing emits it after each change; `kind: 'feeder'` for a feeder incident. */
export function incidentData(overrides: Partial<IncidentEventV1> = {}): IncidentEventV1 {
  return {
    id: randomUUID(),
    status: 'open',
    origin: 'call',
    kind: 'district',
    gridId: 'HH-G03',
    feederCode: 'HH-10kV-02',
    districtCodes: ['HH-TQ-017'],
    parentId: null,
    childIds: [],
    callCount: 1,
    affectedCustomers: 87,
    urgency: 'urgent',
    openedAt: RECEIVED_AT,
    etr: '2026-11-23T08:02:00.000Z',
    etrSource: 'policy',
    primaryRequestId: null,
    plannedOutageId: null,
    restoredAt: null,
    restorationUnconfirmed: false,
    updatedAt: RECEIVED_AT,
    change: 'opened',
    ...overrides,
  };
}

export type IncidentEventType =
  | typeof EventTypeName.incidentOpened
  | typeof EventTypeName.incidentUpdated
  | typeof EventTypeName.incidentRestored
  | typeof EventTypeName.incidentClosed;

export function incidentEvent<T extends IncidentEventType>(type: T, data: IncidentEventV1 = incidentData()): CloudEvent<T> {
  return buildEvent({ type, source: 'grid-routing', subject: data.id, data } as Parameters<typeof buildEvent<T>>[0]);
}
