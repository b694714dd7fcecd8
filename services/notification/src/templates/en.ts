import type { Category, CustomerClass, DispatchAssignedV1, Stage, StaffRole, WorkOrderEventType } from '@griddispatch/contracts';
import { formatClock, formatDuration, shortId } from './format.ts';
import { districtList, mentionOf, primaryClass, type Catalog, type Mention, type Rendered, type WorkOrderContext } from './types.ts';

const CATEGORY: Record<Category, string> = {
  fault_repair: 'fault repair',
  new_connection: 'new connection',
  billing: 'billing',
  consultation: 'consultation',
  complaint: 'complaint',
  report: 'report',
  service_request: 'service request',
};

const CLASS: Record<CustomerClass, string> = {
  aquaculture: 'aquaculture',
  cold_storage: 'cold storage',
  important: 'important customer',
  vulnerable: 'vulnerable customer',
  commercial: 'commercial',
  resident: 'resident',
};

const ROLE: Record<StaffRole, string> = {
  manager: 'district manager',
  assistant: 'assistant',
  supervisor: 'supervisor',
  repair_crew: 'repair crew',
  station_head: 'station head',
};

const STAGE: Record<Stage, string> = { ack: 'acknowledge', arrive: 'arrival', resolve: 'resolution', callback: 'callback' };
const STAGE_ACTION: Record<Stage, string> = { ack: 'acknowledge', arrive: 'arrive', resolve: 'resolve', callback: 'call back' };

const UPDATE: Record<WorkOrderEventType, string> = {
  acknowledged: 'acknowledged',
  en_route: 'en route',
  arrived: 'arrived on site',
  resolved: 'resolved',
  closed: 'closed after callback',
  suspended: 'suspended',
  resumed: 'resumed',
  reassigned: 'reassigned',
  cancelled: 'cancelled',
};

export function en(timeZone: string): Catalog {
  const clock = (at: string, ref?: string) => formatClock(at, timeZone, ref);
  const gridOf = (gridId: string, ctx: WorkOrderContext | null) =>
    ctx ? `${ctx.gridName}${ctx.districtCode ? ` district ${ctx.districtCode}` : ''}` : `grid ${gridId}`;
  const mention = (m: Mention) => (m.wecomUserId ? `<@${m.wecomUserId}> ` : '') + `${m.name} (${ROLE[m.role]})`;

  function deadlineClause(data: DispatchAssignedV1): { action: string; window: string; deadline: string } | null {
    const stage = (['arrive', 'ack', 'resolve'] as const).find((s) => data.sla.deadlines[s]);
    if (!stage) return null;
    const at = data.sla.deadlines[stage] as string;
    const window = formatDuration(Date.parse(at) - Date.parse(data.request.receivedAt), 'en');
    return { action: STAGE_ACTION[stage], window, deadline: clock(at, data.request.receivedAt) };
  }

  return {
    dispatchAssigned(data): Rendered {
      const cls = primaryClass(data.customerClasses);
      const repair = data.request.category === 'fault_repair';
      const title = repair ? '[Repair dispatch] ' : '[Work order] ';
      const where = `${data.grid.name}${data.districtCode ? ` district ${data.districtCode}` : ''}`;
      const what = repair ? `${cls ? CLASS[cls] : 'customer'} outage` : `${CATEGORY[data.request.category]}${cls ? ` (${CLASS[cls]})` : ''}`;
      const due = deadlineClause(data);
      const dueText = due ? `, ${due.action} within ${due.window} (by ${due.deadline})` : '';
      const extras = data.homeVisit ? ['home visit required'] : [];
      const text = `${title}${where}: ${what}${dueText}${extras.length ? `; ${extras.join('; ')}` : ''}`;
      const lines = [
        `**${title}${data.grid.name}**`,
        data.districtCode ? `> District: ${data.districtCode}` : '',
        `> Matter: ${what}`,
        due ? `> Deadline: <font color="warning">${due.action} within ${due.window} (by ${due.deadline})</font>` : '',
        data.request.location.address ? `> Location: ${data.request.location.address}` : '',
        ...extras.map((e) => `> Note: ${e}`),
        `> Work order: ${shortId(data.workOrderId)}`,
        data.assignees.length ? `> Assigned: ${data.assignees.map((a) => mention(mentionOf(a, data.contacts))).join(', ')}` : '',
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
      const hint = loc.districtCode ?? loc.communityCode ?? loc.address ?? (data.request.customer?.accountNo ? 'account to be checked' : 'location unknown');
      const text = `[Unroutable] work order ${shortId(data.workOrderId)} ${CATEGORY[data.request.category]} (${hint}): ${data.reason}; handed to ${data.fallbackDesk} for manual dispatch`;
      return {
        text,
        markdown: [
          `**[Unroutable] <font color="warning">manual dispatch needed</font>**`,
          `> Work order: ${shortId(data.workOrderId)}`,
          `> Category: ${CATEGORY[data.request.category]}`,
          `> Location hint: ${hint}`,
          `> Reason: ${data.reason}`,
          `> Handed to: ${data.fallbackDesk}`,
        ].join('\n'),
        sms: {
          text,
          params: { workOrder: shortId(data.workOrderId), category: CATEGORY[data.request.category], reason: data.reason, desk: data.fallbackDesk },
        },
      };
    },

    workOrderUpdated(data, ctx): Rendered {
      const where = gridOf(data.gridId ?? '?', ctx);
      const change = data.type === 'reassigned' && data.assignee ? `reassigned to ${data.assignee.name}` : UPDATE[data.type];
      const by = data.by ? ` (${data.by})` : '';
      const title = data.type === 'reassigned' ? '[Reassigned] ' : '[Work order update] ';
      const text = `${title}${where}: work order ${shortId(data.workOrderId)} ${change}${by} at ${clock(data.at)}`;
      return {
        text,
        markdown: [
          `**${title}${ctx?.gridName ?? where}**`,
          `> Work order: ${shortId(data.workOrderId)}`,
          `> Status: <font color="info">${change}</font>${by}`,
          `> Time: ${clock(data.at)}`,
          data.note ? `> Note: ${data.note}` : '',
        ]
          .filter(Boolean)
          .join('\n'),
        sms: { text, params: { title, grid: where, workOrder: shortId(data.workOrderId), change, at: clock(data.at) } },
      };
    },

    slaWarning(data, ctx): Rendered {
      const where = gridOf(data.gridId, ctx);
      const left = formatDuration(data.remainingMs, 'en');
      const text = `[SLA warning] ${where}: work order ${shortId(data.workOrderId)} ${STAGE[data.stage]} due at ${clock(data.deadline)}, ${left} left`;
      return {
        text,
        markdown: [
          `**[SLA warning] ${ctx?.gridName ?? where}**`,
          `> Work order: ${shortId(data.workOrderId)}`,
          `> Stage: ${STAGE[data.stage]}`,
          `> Due: <font color="warning">${clock(data.deadline)} (${left} left)</font>`,
        ].join('\n'),
        sms: { text, params: { grid: where, workOrder: shortId(data.workOrderId), stage: STAGE[data.stage], deadline: clock(data.deadline), remaining: left } },
      };
    },

    slaBreached(data, ctx, mentions): Rendered {
      const where = gridOf(data.gridId, ctx);
      const late = formatDuration(data.latenessMs, 'en');
      const roles = data.notify.map((r) => ROLE[r]).join(', ');
      const text =
        `[SLA breach L${data.level}] ${where}: work order ${shortId(data.workOrderId)} ${STAGE[data.stage]} overdue by ${late} (due ${clock(data.deadline)})` +
        (roles ? `; escalated to ${roles}` : '') +
        (data.late ? ' (sent after downtime)' : '');
      return {
        text,
        markdown: [
          `**[SLA breach <font color="warning">level ${data.level}</font>] ${ctx?.gridName ?? where}**`,
          `> Work order: ${shortId(data.workOrderId)}`,
          `> Stage: ${STAGE[data.stage]}, due ${clock(data.deadline)}, overdue by <font color="warning">${late}</font>`,
          mentions.length ? `> Escalated to: ${mentions.map(mention).join(', ')}` : roles ? `> Escalated to: ${roles}` : '',
          data.late ? '> Note: sent after downtime' : '',
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
      const districts = `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
      const etr = clock(data.etr, data.openedAt);
      const who = mentions.length ? mentions.map((m) => m.name).join(', ') : 'repair crew';
      const text = `[Line fault] 10 kV feeder ${feeder}: ${data.districtCodes.length} districts out (${districts}), ${data.affectedCustomers} customers, ETR ${etr}; ${who}: patrol and repair the line`;
      return {
        text,
        markdown: [
          `**[Line fault] <font color="warning">10 kV feeder ${feeder}</font>**`,
          `> Districts out: ${data.districtCodes.length} (${districts})`,
          `> Customers: ${data.affectedCustomers}`,
          `> ETR: <font color="warning">${etr}</font>`,
          `> Incident: ${shortId(data.id)}`,
          `> Crew: ${mentions.length ? mentions.map(mention).join(', ') : 'repair crew'}`,
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
