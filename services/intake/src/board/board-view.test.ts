import { describe, expect, it } from 'vitest';
import type { RequestRow } from '../schema.ts';
import { nextDeadline, stageDone, toBoardItem } from './board-view.ts';

const deadlines = {
  ack: '2026-11-23T12:05:00.000Z',
  arrive: '2026-11-23T12:30:00.000Z',
  resolve: '2026-11-23T14:00:00.000Z',
  callback: '2026-11-24T12:00:00.000Z',
};

function row(over: Partial<RequestRow> = {}): RequestRow {
  return {
    id: '6f1c1a52-3c0e-4bb5-8a34-0d5e1f0b9a11',
    source: '95598',
    externalId: 'GD-1',
    bodyHash: 'x',
    channel: 'api',
    receivedBy: 'sgcc-95598',
    category: 'fault_repair',
    urgency: 'urgent',
    description: null,
    reportedAt: null,
    receivedAt: new Date('2026-11-23T12:00:00.000Z'),
    customer: null,
    location: { districtCode: 'HH-TQ-017' },
    status: 'assigned',
    resumeStatus: null,
    grid: { id: 'HH-G03', name: '后湖3号网格', kind: 'district' },
    gridId: 'HH-G03',
    incidentId: null,
    incidentRole: null,
    etr: null,
    assignees: [{ staffId: 's-1', name: '王建国', role: 'manager' }],
    sla: { policy: 'aquaculture-circle', deadlines },
    breaches: [],
    breached: false,
    warnings: [],
    updatedAt: new Date('2026-11-23T12:00:01.000Z'),
    ...over,
  };
}

describe('board view', () => {
  it('counts down to the first stage not yet done', () => {
    expect(nextDeadline(deadlines, 'assigned', null)).toEqual({ stage: 'ack', deadline: deadlines.ack });
    expect(nextDeadline(deadlines, 'en_route', null)).toEqual({ stage: 'arrive', deadline: deadlines.arrive });
    expect(nextDeadline(deadlines, 'arrived', null)).toEqual({ stage: 'resolve', deadline: deadlines.resolve });
    expect(nextDeadline(deadlines, 'resolved', null)).toEqual({ stage: 'callback', deadline: deadlines.callback });
    expect(nextDeadline(deadlines, 'closed', null)).toBeNull();
    expect(nextDeadline({ resolve: deadlines.resolve }, 'received', null)).toEqual({ stage: 'resolve', deadline: deadlines.resolve });
    expect(nextDeadline({}, 'received', null)).toBeNull();
  });

  it('takes the earliest deadline when a policy sets a later stage earlier', () => {
    expect(nextDeadline({ ack: '2026-11-23T13:00:00.000Z', arrive: '2026-11-23T12:30:00.000Z' }, 'assigned', null)).toEqual({
      stage: 'arrive',
      deadline: '2026-11-23T12:30:00.000Z',
    });
  });

  it('judges a suspended work order by where it stood, and shows it paused', () => {
    expect(stageDone('ack', 'suspended', 'en_route')).toBe(true);
    expect(stageDone('arrive', 'suspended', 'en_route')).toBe(false);
    const item = toBoardItem(row({ status: 'suspended', resumeStatus: 'acknowledged' }));
    expect(item).toMatchObject({ paused: true, open: true, next: { stage: 'arrive' } });
  });

  it('is breached once a deadline was missed, warning while a warned stage is not done, else ok', () => {
    expect(toBoardItem(row()).state).toBe('ok');
    expect(toBoardItem(row({ warnings: [{ stage: 'ack', deadline: deadlines.ack }] })).state).toBe('warning');
    // The warned stage is done: the warning no longer applies.
    expect(toBoardItem(row({ status: 'acknowledged', warnings: [{ stage: 'ack', deadline: deadlines.ack }] })).state).toBe('ok');
    const breached = toBoardItem(row({ breached: true, breaches: [{ stage: 'ack', deadline: deadlines.ack, level: 1, policy: 'aquaculture-circle' }] }));
    expect(breached.state).toBe('breached');
    expect(breached.breaches).toEqual([{ stage: 'ack', deadline: deadlines.ack, level: 1 }]);
  });

  it('drops resolved, closed and cancelled work orders from the board', () => {
    for (const status of ['resolved', 'closed', 'cancelled']) expect(toBoardItem(row({ status })).open).toBe(false);
    for (const status of ['received', 'assigned', 'unroutable', 'acknowledged', 'en_route', 'arrived', 'suspended'])
      expect(toBoardItem(row({ status })).open).toBe(true);
  });

  it('names a merged call and its incident’s ETR; none outside an incident', () => {
    const etr = new Date('2026-11-23T15:00:00.000Z');
    expect(toBoardItem(row({ incidentId: 'INC-1', incidentRole: 'merged', etr }))).toMatchObject({
      incidentId: 'INC-1',
      role: 'merged',
      etr: etr.toISOString(),
    });
    expect(toBoardItem(row({ incidentId: null, incidentRole: 'merged', etr }))).toMatchObject({ role: null, etr: null });
  });

  it('keeps no customer data', () => {
    const item = toBoardItem(row({ customer: { name: '张三', phone: '13812345678', classes: ['aquaculture'] } }));
    expect(JSON.stringify(item)).not.toMatch(/张三|1381234/);
  });
});
