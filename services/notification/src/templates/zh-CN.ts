import { CATEGORY_NAMES, type CustomerClass, type DispatchAssignedV1, type Stage, type StaffRole, type WorkOrderEventType } from '@griddispatch/contracts';
import { formatClock, formatDuration, shortId } from './format.ts';
import { districtList, mentionOf, primaryClass, type Catalog, type Mention, type Rendered, type WorkOrderContext } from './types.ts';

const CLASS: Record<CustomerClass, string> = {
  aquaculture: '养殖户',
  cold_storage: '冷藏加工户',
  important: '重要客户',
  vulnerable: '特殊关爱客户',
  commercial: '商户',
  resident: '居民',
};

const ROLE: Record<StaffRole, string> = {
  manager: '台区经理',
  assistant: '协管员',
  supervisor: '监督员',
  repair_crew: '应急抢修班',
  station_head: '供电所长',
};

const STAGE: Record<Stage, string> = { ack: '响应', arrive: '到达', resolve: '修复', callback: '回访' };
const STAGE_ACTION: Record<Stage, string> = { ack: '响应', arrive: '到达', resolve: '处理完毕', callback: '完成回访' };

const UPDATE: Record<WorkOrderEventType, string> = {
  acknowledged: '已受理',
  en_route: '已出发',
  arrived: '已到达现场',
  resolved: '已处理完毕',
  closed: '已回访关闭',
  suspended: '已挂起',
  resumed: '已恢复处理',
  reassigned: '已改派',
  cancelled: '已撤销',
};

export function zhCN(timeZone: string): Catalog {
  const clock = (at: string, ref?: string) => formatClock(at, timeZone, ref);
  const gridOf = (gridId: string, ctx: WorkOrderContext | null) =>
    ctx ? `${ctx.gridName}${ctx.districtCode ? ` 台区${ctx.districtCode}` : ''}` : `网格${gridId}`;
  const mention = (m: Mention) => (m.wecomUserId ? `<@${m.wecomUserId}> ` : '') + `${m.name}（${ROLE[m.role]}）`;

  function deadlineClause(data: DispatchAssignedV1): { action: string; window: string; deadline: string } | null {
    const stage = (['arrive', 'ack', 'resolve'] as const).find((s) => data.sla.deadlines[s]);
    if (!stage) return null;
    const at = data.sla.deadlines[stage] as string;
    const window = formatDuration(Date.parse(at) - Date.parse(data.request.receivedAt), 'zh-CN');
    return { action: STAGE_ACTION[stage], window, deadline: clock(at, data.request.receivedAt) };
  }

  return {
    dispatchAssigned(data): Rendered {
      const cls = primaryClass(data.customerClasses);
      const repair = data.request.category === 'fault_repair';
      const title = repair ? '【抢修派单】' : '【工单派发】';
      const where = `${data.grid.name}${data.districtCode ? ` 台区${data.districtCode}` : ''}`;
      const what = repair ? `${cls ? CLASS[cls] : '客户'}停电` : `${CATEGORY_NAMES[data.request.category]}${cls ? `（${CLASS[cls]}）` : ''}`;
      const due = deadlineClause(data);
      const dueText = due ? `，请${due.window}内${due.action}（截止${due.deadline}）` : '';
      const extras = data.homeVisit ? ['需上门服务'] : [];
      const text = `${title}${where} ${what}${dueText}${extras.length ? `；${extras.join('；')}` : ''}`;
      const lines = [
        `**${title}${data.grid.name}**`,
        data.districtCode ? `> 台区：${data.districtCode}` : '',
        `> 事项：${what}`,
        due ? `> 时限：<font color="warning">${due.window}内${due.action}（截止${due.deadline}）</font>` : '',
        data.request.location.address ? `> 地点：${data.request.location.address}` : '',
        ...extras.map((e) => `> 提示：${e}`),
        `> 工单：${shortId(data.workOrderId)}`,
        data.assignees.length ? `> 负责人：${data.assignees.map((a) => mention(mentionOf(a, data.contacts))).join('、')}` : '',
      ];
      return {
        text,
        markdown: lines.filter(Boolean).join('\n'),
        sms: {
          text,
          params: {
            title,
            grid: where,
            matter: what,
            window: due?.window ?? '',
            action: due?.action ?? '',
            deadline: due?.deadline ?? '',
            workOrder: shortId(data.workOrderId),
          },
        },
      };
    },

    dispatchUnroutable(data): Rendered {
      const loc = data.request.location;
      const hint = loc.districtCode ?? loc.communityCode ?? loc.address ?? (data.request.customer?.accountNo ? '户号待核' : '位置不明');
      const text = `【无法派单】工单${shortId(data.workOrderId)} ${CATEGORY_NAMES[data.request.category]}（${hint}），原因：${data.reason}，已转${data.fallbackDesk}人工派单`;
      return {
        text,
        markdown: [
          `**【无法派单】<font color="warning">需人工派单</font>**`,
          `> 工单：${shortId(data.workOrderId)}`,
          `> 类别：${CATEGORY_NAMES[data.request.category]}`,
          `> 位置线索：${hint}`,
          `> 原因：${data.reason}`,
          `> 转交：${data.fallbackDesk}`,
        ].join('\n'),
        sms: {
          text,
          params: { workOrder: shortId(data.workOrderId), category: CATEGORY_NAMES[data.request.category], reason: data.reason, desk: data.fallbackDesk },
        },
      };
    },

    workOrderUpdated(data, ctx): Rendered {
      const where = gridOf(data.gridId ?? '?', ctx);
      const change = data.type === 'reassigned' && data.assignee ? `已改派给${data.assignee.name}` : UPDATE[data.type];
      const by = data.by ? `（${data.by}）` : '';
      const title = data.type === 'reassigned' ? '【工单改派】' : '【工单动态】';
      const text = `${title}${where} 工单${shortId(data.workOrderId)}${change}${by}，${clock(data.at)}`;
      return {
        text,
        markdown: [
          `**${title}${ctx?.gridName ?? where}**`,
          `> 工单：${shortId(data.workOrderId)}`,
          `> 状态：<font color="info">${change}</font>${by}`,
          `> 时间：${clock(data.at)}`,
          data.note ? `> 备注：${data.note}` : '',
        ]
          .filter(Boolean)
          .join('\n'),
        sms: { text, params: { title, grid: where, workOrder: shortId(data.workOrderId), change, at: clock(data.at) } },
      };
    },

    slaWarning(data, ctx): Rendered {
      const where = gridOf(data.gridId, ctx);
      const left = formatDuration(data.remainingMs, 'zh-CN');
      const text = `【时限预警】${where} 工单${shortId(data.workOrderId)} ${STAGE[data.stage]}时限${clock(data.deadline)}到期，剩余${left}`;
      return {
        text,
        markdown: [
          `**【时限预警】${ctx?.gridName ?? where}**`,
          `> 工单：${shortId(data.workOrderId)}`,
          `> 环节：${STAGE[data.stage]}`,
          `> 截止：<font color="warning">${clock(data.deadline)}（剩余${left}）</font>`,
        ].join('\n'),
        sms: { text, params: { grid: where, workOrder: shortId(data.workOrderId), stage: STAGE[data.stage], deadline: clock(data.deadline), remaining: left } },
      };
    },

    slaBreached(data, ctx, mentions): Rendered {
      const where = gridOf(data.gridId, ctx);
      const late = formatDuration(data.latenessMs, 'zh-CN');
      const roles = data.notify.map((r) => ROLE[r]).join('、');
      const text =
        `【超时告警·${data.level}级】${where} 工单${shortId(data.workOrderId)} ${STAGE[data.stage]}已超时${late}（截止${clock(data.deadline)}）` +
        (roles ? `，请${roles}督办` : '') +
        (data.late ? '（系统恢复后补发）' : '');
      return {
        text,
        markdown: [
          `**【超时告警·<font color="warning">${data.level}级</font>】${ctx?.gridName ?? where}**`,
          `> 工单：${shortId(data.workOrderId)}`,
          `> 环节：${STAGE[data.stage]}，截止${clock(data.deadline)}，已超时<font color="warning">${late}</font>`,
          mentions.length ? `> 督办：${mentions.map(mention).join('、')}` : roles ? `> 督办：${roles}` : '',
          data.late ? '> 说明：系统恢复后补发' : '',
        ]
          .filter(Boolean)
          .join('\n'),
        sms: {
          text,
          params: {
            level: String(data.level),
            grid: where,
            workOrder: shortId(data.workOrderId),
            stage: STAGE[data.stage],
            lateness: late,
            deadline: clock(data.deadline),
            roles,
          },
        },
      };
    },

    feederIncident(data, mentions): Rendered {
      const feeder = data.feederCode ?? data.gridId;
      const { shown, more } = districtList(data.districtCodes);
      const districts = `${shown.join('、')}${more > 0 ? `等` : ''}`;
      const etr = clock(data.etr, data.openedAt);
      const crew = mentions.length ? mentions.map(mention).join('、') : '应急抢修班';
      const text = `【线路故障】10kV线路${feeder} ${data.districtCodes.length}个台区停电（${districts}），影响${data.affectedCustomers}户，预计复电${etr}，请${mentions.length ? mentions.map((m) => m.name).join('、') : '应急抢修班'}巡线抢修`;
      return {
        text,
        markdown: [
          `**【线路故障】<font color="warning">10kV线路${feeder}</font>**`,
          `> 停电台区：${data.districtCodes.length}个（${districts}）`,
          `> 影响户数：${data.affectedCustomers}`,
          `> 预计复电：<font color="warning">${etr}</font>`,
          `> 事件：${shortId(data.id)}`,
          `> 抢修：${crew}`,
        ].join('\n'),
        sms: {
          text,
          params: {
            feeder,
            districts,
            districtCount: String(data.districtCodes.length),
            customers: String(data.affectedCustomers),
            etr,
            incident: shortId(data.id),
          },
        },
      };
    },
  };
}
