import { describe, expect, it } from 'vitest';
import type { Incident } from '@griddispatch/contracts';
import { toBoardIncident } from './incident-view.ts';

const incident: Incident = {
  id: 'INC-1',
  status: 'dispatched',
  origin: 'meter',
  kind: 'district',
  gridId: 'HH-G03',
  feederCode: 'HH-F03',
  districtCodes: ['HH-TQ-046'],
  parentId: 'INC-F',
  childIds: [],
  callCount: 4,
  affectedCustomers: 120,
  urgency: 'urgent',
  openedAt: '2026-11-23T11:00:00.000Z',
  etr: '2026-11-23T14:00:00.000Z',
  etrSource: 'manual',
  primaryRequestId: null,
  plannedOutageId: null,
  restoredAt: null,
  restorationUnconfirmed: false,
  updatedAt: '2026-11-23T11:05:00.000Z',
};

describe('board incident', () => {
  it('is the incident as last heard, open until restored or closed', () => {
    expect(toBoardIncident({ data: incident, status: incident.status })).toEqual({ ...incident, open: true });
    for (const status of ['open', 'dispatched', 'en_route', 'arrived'] as const)
      expect(toBoardIncident({ data: { ...incident, status }, status }).open).toBe(true);
    for (const status of ['restored', 'closed'] as const) expect(toBoardIncident({ data: { ...incident, status }, status }).open).toBe(false);
  });
});
