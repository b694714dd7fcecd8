import { describe, expect, it } from 'vitest';
import { assignedData, breachedData, incidentData, unroutableData, updatedData, warningData } from '../testing/fixtures.ts';
import { formatClock, formatDuration, truncateUtf8 } from './format.ts';
import { catalog, type WorkOrderContext } from './index.ts';

const zh = catalog('zh-CN', 'Asia/Shanghai');
const en = catalog('en', 'Asia/Shanghai');
const ID = '0a1b2c3d-0000-4000-8000-000000000001';
const ctx: WorkOrderContext = {
  workOrderId: ID,
  gridId: 'HH-G03',
  gridName: '后湖3号网格',
  districtCode: 'HH-TQ-017',
  category: 'fault_repair',
  customerClasses: ['aquaculture'],
};

describe('dispatch.assigned', () => {
  it('reads like the repair dispatch the field expects, in Beijing time', () => {
    const r = zh.dispatchAssigned(assignedData({ workOrderId: ID }));
    expect(r.sms.text).toBe('【抢修派单】后湖3号网格 台区HH-TQ-017 养殖户停电，请30分钟内到达（截止14:32）');
    expect(r.sms.params).toMatchObject({ grid: '后湖3号网格 台区HH-TQ-017', window: '30分钟', deadline: '14:32', workOrder: '0A1B2C3D' });
  });

  it('renders WeCom markdown with the deadline highlighted and the assignee mentioned', () => {
    const r = zh.dispatchAssigned(assignedData({ workOrderId: ID }));
    expect(r.markdown.split('\n')).toEqual([
      '**【抢修派单】后湖3号网格**',
      '> 台区：HH-TQ-017',
      '> 事项：养殖户停电',
      '> 时限：<font color="warning">30分钟内到达（截止14:32）</font>',
      '> 工单：0A1B2C3D',
      '> 负责人：<@zhangwei> 张伟（台区经理）',
    ]);
  });

  it('has an English version and follows the configured time zone', () => {
    const r = en.dispatchAssigned(assignedData({ workOrderId: ID }));
    expect(r.sms.text).toBe('[Repair dispatch] 后湖3号网格 district HH-TQ-017: aquaculture outage, arrive within 30 min (by 14:32)');
    expect(catalog('en', 'UTC').dispatchAssigned(assignedData()).sms.text).toContain('(by 06:32)');
  });

  it('words other categories as a work order with the first deadline, and asks for a home visit', () => {
    const data = assignedData({ workOrderId: ID, homeVisit: true });
    data.request.category = 'new_connection';
    data.customerClasses = [];
    data.sla.deadlines = { ack: '2026-11-23T07:02:00.000Z', resolve: '2026-11-24T06:02:00.000Z' };
    expect(zh.dispatchAssigned(data).sms.text).toBe('【工单派发】后湖3号网格 台区HH-TQ-017 业扩报装，请1小时内响应（截止15:02）；需上门服务');
  });
});

describe('feeder incident', () => {
  const feeder = incidentData({
    id: ID,
    kind: 'feeder',
    gridId: 'HH',
    feederCode: 'HH-10kV-02',
    districtCodes: ['HH-TQ-011', 'HH-TQ-012', 'HH-TQ-013', 'HH-TQ-014', 'HH-TQ-015', 'HH-TQ-016', 'HH-TQ-017'],
    affectedCustomers: 412,
  });
  const crew = [
    { name: '抢修一班', role: 'repair_crew' as const },
    { name: '周所长', role: 'station_head' as const, wecomUserId: 'zhouhead' },
  ];

  it('names the line, its 台区, the customers and the ETR for the crew and the station head', () => {
    const r = zh.feederIncident(feeder, crew);
    expect(r.sms.text).toBe(
      '【线路故障】10kV线路HH-10kV-02 7个台区停电（HH-TQ-011、HH-TQ-012、HH-TQ-013、HH-TQ-014、HH-TQ-015等），影响412户，预计复电16:02，请抢修一班、周所长巡线抢修',
    );
    expect(r.sms.params).toMatchObject({ feeder: 'HH-10kV-02', districtCount: '7', customers: '412', etr: '16:02', incident: '0A1B2C3D' });
    expect(r.markdown.split('\n')).toEqual([
      '**【线路故障】<font color="warning">10kV线路HH-10kV-02</font>**',
      '> 停电台区：7个（HH-TQ-011、HH-TQ-012、HH-TQ-013、HH-TQ-014、HH-TQ-015等）',
      '> 影响户数：412',
      '> 预计复电：<font color="warning">16:02</font>',
      '> 事件：0A1B2C3D',
      '> 抢修：抢修一班（应急抢修班）、<@zhouhead> 周所长（供电所长）',
    ]);
  });

  it('has an English version', () => {
    expect(en.feederIncident(feeder, crew).sms.text).toBe(
      '[Line fault] 10 kV feeder HH-10kV-02: 7 districts out (HH-TQ-011, HH-TQ-012, HH-TQ-013, HH-TQ-014, HH-TQ-015 and 2 more), 412 customers, ETR 16:02; 抢修一班, 周所长: patrol and repair the line',
    );
    expect(en.feederIncident(feeder, []).text).toContain('; repair crew: patrol and repair the line');
  });
});

describe('other events', () => {
  it('tells operators why a request could not be routed', () => {
    expect(zh.dispatchUnroutable(unroutableData({ workOrderId: ID })).text).toBe(
      '【无法派单】工单0A1B2C3D 投诉（天城镇某街道），原因：no grid contains the reported location，已转综合管控平台人工派单',
    );
  });

  it('announces a reassignment with the new assignee', () => {
    const r = zh.workOrderUpdated(updatedData(ID, { type: 'reassigned', by: undefined, assignee: { staffId: 'S-2', name: '赵敏' } }), ctx);
    expect(r.sms.text).toBe('【工单改派】后湖3号网格 台区HH-TQ-017 工单0A1B2C3D已改派给赵敏，14:25');
  });

  it('warns before the deadline with the time left', () => {
    expect(zh.slaWarning(warningData(ID), ctx).sms.text).toBe('【时限预警】后湖3号网格 台区HH-TQ-017 工单0A1B2C3D 到达时限14:32到期，剩余5分钟');
    expect(zh.slaWarning(warningData(ID), null).sms.text).toContain('网格HH-G03');
  });

  it('escalates a breach naming the roles of the step', () => {
    const r = zh.slaBreached(breachedData(ID, { level: 2, notify: ['supervisor'], latenessMs: 900_000 }), ctx, [
      { name: '王强', role: 'supervisor', wecomUserId: 'wangqiang' },
    ]);
    expect(r.sms.text).toBe('【超时告警·2级】后湖3号网格 台区HH-TQ-017 工单0A1B2C3D 到达已超时15分钟（截止14:32），请监督员督办');
    expect(r.markdown).toContain('> 督办：<@wangqiang> 王强（监督员）');
    expect(en.slaBreached(breachedData(ID, { late: true }), ctx, []).text).toBe(
      '[SLA breach L1] 后湖3号网格 district HH-TQ-017: work order 0A1B2C3D arrival overdue by 0 min (due 14:32); escalated to assistant, repair crew (sent after downtime)',
    );
  });
});

describe('formatting', () => {
  it('shows the date only when the deadline is on another local day', () => {
    expect(formatClock('2026-11-23T15:30:00Z', 'Asia/Shanghai', '2026-11-23T06:00:00Z')).toBe('23:30');
    expect(formatClock('2026-11-23T16:30:00Z', 'Asia/Shanghai', '2026-11-23T06:00:00Z')).toBe('11-24 00:30');
  });

  it('rounds durations for people', () => {
    expect(formatDuration(90 * 60_000, 'zh-CN')).toBe('1小时30分钟');
    expect(formatDuration(2 * 3_600_000, 'en')).toBe('2 h');
    expect(formatDuration(20_000, 'zh-CN')).toBe('20秒');
  });

  it('truncates on a character boundary within the byte budget', () => {
    const t = truncateUtf8('停'.repeat(2000), 4096);
    expect(Buffer.byteLength(t)).toBeLessThanOrEqual(4096);
    expect(t.endsWith('…')).toBe(true);
  });
});
