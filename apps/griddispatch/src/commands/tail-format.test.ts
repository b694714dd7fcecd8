import { describe, expect, it } from 'vitest';
import { DlqHeaders } from '@griddispatch/bus';
import { buildEvent, serializeEvent, type DispatchAssignedV1, type EventData, type EventType } from '@griddispatch/contracts';
import { formatTailLine, TailMemory, type TailRecord } from './tail-format.ts';
import { dispatchAssigned } from './test-fixtures.ts';

// 14:05 Asia/Shanghai on 3 Nov 2026.
const T0 = new Date('2026-11-03T06:05:00Z');
const WO = '3f2a9c1e-5b6d-4c1a-9e2f-0a1b2c3d4e5f';
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const assigned = (over: Partial<DispatchAssignedV1> = {}) => dispatchAssigned({ workOrderId: WO, at: T0, ...over });
const opts = (nowMinutes: number, extra: { grid?: string; color?: boolean } = {}) => ({
  now: at(nowMinutes),
  timeZone: 'Asia/Shanghai',
  color: extra.color ?? false,
  ...(extra.grid ? { grid: extra.grid } : {}),
});

function record<T extends EventType>(topic: string, type: T, data: EventData<T>, time: Date, headers: Record<string, string> = {}): TailRecord {
  const event = buildEvent({ type, source: 'grid-routing', subject: WO, data, time });
  return { topic, key: WO, value: Buffer.from(serializeEvent(event)), headers, partition: 0, offset: '0' };
}

describe('tail line', () => {
  it('says who got a dispatch, under which policy, and how long until the next deadline — with names masked', () => {
    const line = formatTailLine(record('dispatch.assigned', 'cn.griddispatch.dispatch.assigned.v1', assigned(), at(0)), new TailMemory(), opts(1.5));
    expect(line).toBe(
      '14:05:00  后湖3号网格  3f2a9c1e  派单 后湖3号网格 → 张** (manager), 李* (assistant) · 故障报修 · aquaculture-circle · 响应截止 14:10 (剩余 3m)',
    );
    expect(line).not.toContain('张国强');
    expect(line).not.toContain('王小明');
  });

  it('moves the countdown to the next stage once the field app acknowledged', () => {
    const memory = new TailMemory();
    formatTailLine(record('dispatch.assigned', 'cn.griddispatch.dispatch.assigned.v1', assigned(), at(0)), memory, opts(0));
    const ack = record(
      'workorders.events',
      'cn.griddispatch.workorder.updated.v1',
      { workOrderId: WO, type: 'acknowledged', at: at(2).toISOString(), by: '张国强', previousStatus: 'assigned', status: 'acknowledged', gridId: 'HH-G03' },
      at(2),
    );
    const line = formatTailLine(ack, memory, opts(3));
    expect(line).toBe('14:07:00  后湖3号网格  3f2a9c1e  已响应 (assigned → acknowledged) by 张** · 到达截止 14:35 (剩余 27m)');
  });

  it('shows a passed deadline as passed, and a breach with its lateness, level and who is told', () => {
    const memory = new TailMemory();
    formatTailLine(record('dispatch.assigned', 'cn.griddispatch.dispatch.assigned.v1', assigned(), at(0)), memory, opts(0));
    const breach = record(
      'sla.breaches',
      'cn.griddispatch.sla.breached.v1',
      {
        workOrderId: WO,
        gridId: 'HH-G03',
        policy: 'aquaculture-circle',
        stage: 'ack',
        deadline: at(5).toISOString(),
        latenessMs: 180_000,
        level: 1,
        notify: ['assistant', 'repair_crew'],
        late: false,
      },
      at(8),
    );
    expect(formatTailLine(breach, memory, opts(8))).toBe(
      '14:13:00  后湖3号网格  3f2a9c1e  超时 L1 响应截止 14:10 (已超 3m) · aquaculture-circle · 通知 assistant, repair_crew',
    );
    const update = record(
      'workorders.events',
      'cn.griddispatch.workorder.updated.v1',
      { workOrderId: WO, type: 'en_route', at: at(9).toISOString(), previousStatus: 'assigned', status: 'en_route', gridId: 'HH-G03' },
      at(9),
    );
    // en_route does not satisfy "ack" (only acknowledged does): its deadline is still the next one, and passed.
    expect(formatTailLine(update, memory, opts(9))).toContain('响应截止 14:10 (已过 4m)');
  });

  it('warns with the time left when the warning fired, and shows deadlines on other days with their date', () => {
    const warning = record(
      'sla.warnings',
      'cn.griddispatch.sla.warning.v1',
      { workOrderId: WO, gridId: 'HH-G03', policy: 'new-connection', stage: 'resolve', deadline: '2026-11-04T01:00:00Z', remainingMs: 300_000, late: false },
      at(0),
    );
    expect(formatTailLine(warning, new TailMemory(), opts(0))).toBe(
      '14:05:00  HH-G03  3f2a9c1e  预警 办结即将超时 · new-connection · 办结截止 11-04 09:00 (剩余 18h55m)',
    );
  });

  it('filters by grid id or name, including work-order events whose grid came from an earlier dispatch', () => {
    const memory = new TailMemory();
    const dispatch = record('dispatch.assigned', 'cn.griddispatch.dispatch.assigned.v1', assigned(), at(0));
    expect(formatTailLine(dispatch, memory, opts(0, { grid: 'HH-G01' }))).toBeNull();
    expect(formatTailLine(dispatch, memory, opts(0, { grid: '后湖3号网格' }))).not.toBeNull();
    const update = record(
      'workorders.events',
      'cn.griddispatch.workorder.updated.v1',
      { workOrderId: WO, type: 'arrived', at: at(20).toISOString(), previousStatus: 'en_route', status: 'arrived', gridId: null },
      at(20),
    );
    expect(formatTailLine(update, memory, opts(20, { grid: 'HH-G03' }))).toContain('已到达');
    const unroutable = record(
      'dispatch.unroutable',
      'cn.griddispatch.dispatch.unroutable.v1',
      { workOrderId: WO, request: assigned().request, reason: 'no grid for district HH-TQ-999', fallbackDesk: '县调度台' },
      at(0),
    );
    expect(formatTailLine(unroutable, memory, opts(0, { grid: 'HH-G03' }))).toBeNull();
    expect(formatTailLine(unroutable, memory, opts(0))).toBe('14:05:00  —  3f2a9c1e  无法派单 故障报修 · no grid for district HH-TQ-999 · 转 县调度台');
  });

  it('prints dead letters with their error, even when the value does not parse', () => {
    const dlq: TailRecord = {
      topic: 'dispatch.assigned.dlq',
      key: 'HH-G03',
      value: Buffer.from('{"not":"an event"}'),
      headers: {
        [DlqHeaders.error]: 'InvalidEventError: not a CloudEvents 1.0 envelope',
        [DlqHeaders.errorName]: 'InvalidEventError',
        [DlqHeaders.attempts]: '1',
        [DlqHeaders.sourcePartition]: '2',
        [DlqHeaders.sourceOffset]: '41',
      },
      partition: 0,
      offset: '7',
    };
    expect(formatTailLine(dlq, new TailMemory(), opts(0))).toBe(
      '14:05:00  —  HH-G03  死信 ×1 2@41 InvalidEventError: not a CloudEvents 1.0 envelope · 无法解析 not a CloudEvents 1.0 envelope',
    );
  });

  it('colours only when asked (stdout is a terminal)', () => {
    const dispatch = record('dispatch.assigned', 'cn.griddispatch.dispatch.assigned.v1', assigned(), at(0));
    expect(formatTailLine(dispatch, new TailMemory(), opts(0, { color: true }))).toContain('\u001b[32m派单\u001b[39m');
    expect(formatTailLine(dispatch, new TailMemory(), opts(0))).not.toContain('\u001b[');
  });

  it('forgets the oldest work orders beyond its bound', () => {
    const memory = new TailMemory(2);
    for (const id of ['a', 'b', 'c']) {
      memory.learn(buildEvent({ type: 'cn.griddispatch.dispatch.assigned.v1', source: 'grid-routing', subject: id, data: assigned({ workOrderId: id }) }));
    }
    expect(memory.nextDeadline('a')).toBeNull();
    expect(memory.nextDeadline('c')?.stage).toBe('ack');
  });
});
