import { describe, expect, it } from 'vitest';
import type { RequestView } from '@griddispatch/contracts';
import { renderRequestDetail } from './requests.ts';

describe('requests show: the callback (回访)', () => {
  const view = (callback: RequestView['callback']): RequestView => ({
    id: 'r-1',
    source: '95598',
    externalId: 'GD1',
    category: 'fault_repair',
    status: 'resolved',
    receivedAt: '2026-11-03T06:05:00Z',
    grid: { id: 'HH-G03', name: '后湖3号网格', kind: 'district' },
    callback,
    role: 'merged',
    etr: null,
    incidentId: 'INC-1',
    assignees: [],
    sla: null,
    timeline: [],
  });
  const render = (v: RequestView) => renderRequestDetail(v, { now: new Date('2026-11-03T08:00:00Z'), timeZone: 'Asia/Shanghai', color: false });

  it('shows the answer and the satisfaction once asked, nothing before', () => {
    expect(render(view(null))).not.toContain('callback');
    const asked = { askedAt: '2026-11-03T07:00:00Z', bySms: true, reply: null, satisfaction: null, answeredAt: null };
    expect(render(view(asked))).toMatch(/callback +未答复 \(asked by SMS\)/);
    expect(render(view({ ...asked, reply: 'still_out', satisfaction: 3, answeredAt: '2026-11-03T07:05:00Z' }))).toMatch(
      /callback +仍未恢复 · 满意度 3 \(asked by SMS\)/,
    );
    expect(render(view({ ...asked, bySms: false, reply: 'restored', satisfaction: null }))).toMatch(/callback +已恢复供电 \(no mobile: by phone\)/);
  });
});
