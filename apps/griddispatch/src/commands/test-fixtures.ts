import type { DispatchAssignedV1 } from '@griddispatch/contracts';

// Events as grid-routing emits them, for the CLI's tests.

export interface DispatchFixture extends Partial<DispatchAssignedV1> {
  workOrderId: string;
  /** When the request was received; deadlines follow the aquaculture 30-minute circle from here. */
  at: Date;
}

/** An aquaculture outage in 后湖3号网格 on the 30-minute circle (ack 5m, arrive 30m, resolve 2h). */
export function dispatchAssigned({ workOrderId, at, ...over }: DispatchFixture): DispatchAssignedV1 {
  const after = (minutes: number) => new Date(at.getTime() + minutes * 60_000).toISOString();
  return {
    workOrderId,
    request: {
      id: workOrderId,
      source: '95598',
      externalId: `GD-${workOrderId.slice(0, 8)}`,
      category: 'fault_repair',
      receivedAt: at.toISOString(),
      urgency: 'urgent',
      customer: { accountNo: '3007654321', name: '王小明', phone: '13812345678', classes: ['aquaculture'] },
      location: { districtCode: 'HH-TQ-017' },
    },
    grid: { id: 'HH-G03', name: '后湖3号网格', kind: 'district', areaType: 'rural', areaId: 'HH' },
    resolvedBy: 'district',
    districtCode: 'HH-TQ-017',
    assignees: [
      { staffId: 'HH-S09', name: '李四', role: 'assistant' },
      { staffId: 'HH-S03', name: '张国强', role: 'manager' },
    ],
    contacts: [],
    customerClasses: ['aquaculture'],
    homeVisit: false,
    incidentId: null,
    urgency: 'urgent',
    sla: {
      policy: 'aquaculture-circle',
      deadlines: { ack: after(5), arrive: after(30), resolve: after(120) },
      warnBeforeMs: 300_000,
      escalation: [],
      calendar: null,
    },
    ...over,
  };
}
