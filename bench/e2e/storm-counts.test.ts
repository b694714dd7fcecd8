import { describe, expect, it } from 'vitest';
import { countStorm, type TimerGroup } from './storm-counts.ts';

describe('countStorm', () => {
  const dispatches = new Map([
    ['p1', { kind: 'assigned' as const, incidentId: 'I1', role: 'primary' as const }],
    ['m1', { kind: 'assigned' as const, incidentId: 'I1', role: 'merged' as const }],
    ['m2', { kind: 'assigned' as const, incidentId: 'I1', role: 'merged' as const }],
    ['p2', { kind: 'assigned' as const, incidentId: 'I2', role: 'primary' as const }],
    ['x', { kind: 'assigned' as const, incidentId: null, role: null }],
    ['u', { kind: 'unroutable' as const, incidentId: null, role: null }],
  ]);
  const timers: TimerGroup[] = [
    { workOrderId: 'p1', kind: 'warning', state: 'fired', n: 1 },
    { workOrderId: 'p1', kind: 'breach', state: 'fired', n: 2 },
    { workOrderId: 'p2', kind: 'breach', state: 'pending', n: 2 },
    { workOrderId: 'x', kind: 'breach', state: 'fired', n: 1 },
  ];

  it('counts calls, incidents, timers and breaches, in all and per incident, and what merged calls carry', () => {
    const c = countStorm({
      accepted: new Set(['p1', 'm1', 'm2', 'p2', 'x', 'u']),
      dispatches,
      breaches: new Map([
        ['p1:ack:1', { count: 1 }],
        ['p1:arrive:1', { count: 2 }],
        ['x:ack:1', { count: 1 }],
        ['stranger:ack:1', { count: 1 }],
      ]),
      incidents: new Map([
        ['I1', { opened: true }],
        ['I2', { opened: false }],
      ]),
      database: { timers, incidents: { total: 2, feeder: 0 } },
    });
    expect(c.calls).toBe(6);
    expect(c.incidents).toEqual({ fromDispatches: 2, inDatabase: 2, feederInDatabase: 0, onTopic: 2, openedOnTopic: 1 });
    expect(c.roles).toEqual({ primary: 2, merged: 2, none: 1 });
    expect(c.timers).toEqual({
      created: 6,
      byKind: { warning: 1, breach: 5 },
      fired: 4,
      workOrdersWithTimers: 3,
      ofMergedWorkOrders: 0,
      withoutIncident: 1,
      perIncident: { incidents: 2, p50: 2, max: 3, mean: 2.5 },
      maxTimedWorkOrdersPerIncident: 1,
    });
    expect(c.breaches).toEqual({
      emitted: 4,
      distinct: 3,
      firedInDatabase: 3,
      ofMergedWorkOrders: 0,
      withoutIncident: 1,
      perIncident: { incidents: 1, p50: 3, max: 3, mean: 3 },
    });
  });

  it('shows timers and breaches of merged calls when a producer times them', () => {
    const c = countStorm({
      accepted: new Set(['p1', 'm1']),
      dispatches,
      breaches: new Map([['m1:ack:1', { count: 1 }]]),
      incidents: new Map(),
      database: { timers: [{ workOrderId: 'm1', kind: 'breach', state: 'fired', n: 1 }, ...timers.slice(0, 1)], incidents: null },
    });
    expect(c.timers).toMatchObject({ ofMergedWorkOrders: 1, maxTimedWorkOrdersPerIncident: 2 });
    expect(c.breaches).toMatchObject({ ofMergedWorkOrders: 1 });
    expect(c.incidents.inDatabase).toBeNull();
  });
});
