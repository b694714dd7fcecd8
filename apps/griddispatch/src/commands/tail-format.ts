import { DlqHeaders } from '@griddispatch/bus';
import { CATEGORY_NAMES, STAGE_SATISFIED_BY, isEvent, parseEvent, type CloudEvent, type Stage, type WorkOrderEventType } from '@griddispatch/contracts';
import { maskName } from '@griddispatch/observability';
import { STAGE_WORDS, STATUS_WORDS, cleanDeep, cleanText, clockTime, compactDuration, deadlineTime, painter, timeLeft, type Paint } from './format.ts';

// One readable line per record for `griddispatch tail`:
//   14:05:12  后湖3号网格  3f2a9c1e  派单 后湖3号网格 → 张** (manager) · aquaculture-circle · 到达截止 14:32 (剩余 27m)
// Pure: the clock, the zone and the colours come in; what earlier records taught (grid names,
// deadlines of the work orders seen being dispatched) lives in a TailMemory the caller keeps.

export interface TailRecord {
  /** Logical topic (no prefix), e.g. `dispatch.assigned` or `sla.breaches.dlq`. */
  topic: string;
  key: string | null;
  value: Buffer | string | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

export interface TailFormatOptions {
  now: Date;
  timeZone: string;
  color: boolean;
}

const STAGE_OF_EVENT = Object.fromEntries(Object.entries(STAGE_SATISFIED_BY).map(([stage, type]) => [type, stage])) as Partial<
  Record<WorkOrderEventType, Stage>
>;
const ENDS_ALL_CLOCKS = new Set<WorkOrderEventType>(['closed', 'cancelled']);
const ROLE_ORDER = ['manager', 'assistant', 'supervisor', 'repair_crew', 'station_head'];

interface WorkOrderFacts {
  gridId: string | null;
  deadlines: Partial<Record<Stage, string>>;
  satisfied: Set<Stage>;
  suspended: boolean;
}

/**
 * What a tail session has learned so far: grid names (from dispatch.assigned) and each dispatched
 * work order's deadlines, minus the stages its field events satisfied. Bounded: the oldest work
 * orders are forgotten first.
 */
export class TailMemory {
  private readonly gridNames = new Map<string, string>();
  private readonly workOrders = new Map<string, WorkOrderFacts>();

  constructor(private readonly maxWorkOrders = 20_000) {}

  learn(event: CloudEvent): void {
    if (isEvent(event, 'cn.griddispatch.dispatch.assigned.v1')) {
      const d = event.data;
      this.gridNames.set(d.grid.id, d.grid.name);
      this.remember(d.workOrderId, { gridId: d.grid.id, deadlines: { ...d.sla.deadlines }, satisfied: new Set(), suspended: false });
    } else if (isEvent(event, 'cn.griddispatch.workorder.updated.v1')) {
      const facts = this.workOrders.get(event.data.workOrderId);
      if (!facts) return;
      const stage = STAGE_OF_EVENT[event.data.type];
      if (stage) facts.satisfied.add(stage);
      if (ENDS_ALL_CLOCKS.has(event.data.type)) for (const s of Object.keys(facts.deadlines) as Stage[]) facts.satisfied.add(s);
      facts.suspended = event.data.status === 'suspended';
    }
  }

  gridName(gridId: string | null | undefined): string | undefined {
    return gridId ? this.gridNames.get(gridId) : undefined;
  }

  gridOf(workOrderId: string): string | null {
    return this.workOrders.get(workOrderId)?.gridId ?? null;
  }

  /** The earliest deadline not yet satisfied, or null (unknown work order, all done, suspended). */
  nextDeadline(workOrderId: string): { stage: Stage; deadline: Date } | null {
    const facts = this.workOrders.get(workOrderId);
    if (!facts || facts.suspended) return null;
    let next: { stage: Stage; deadline: Date } | null = null;
    for (const [stage, iso] of Object.entries(facts.deadlines) as [Stage, string][]) {
      if (facts.satisfied.has(stage)) continue;
      const deadline = new Date(iso);
      if (!next || deadline < next.deadline) next = { stage, deadline };
    }
    return next;
  }

  private remember(workOrderId: string, facts: WorkOrderFacts): void {
    this.workOrders.delete(workOrderId);
    this.workOrders.set(workOrderId, facts);
    if (this.workOrders.size > this.maxWorkOrders) {
      const oldest = this.workOrders.keys().next().value;
      if (oldest !== undefined) this.workOrders.delete(oldest);
    }
  }
}

/** The grid an event concerns (id and, when known, name), for the line and for `--grid`. */
export function gridOfEvent(event: CloudEvent, memory: TailMemory): { id: string | null; name: string | null } {
  let id: string | null = null;
  let name: string | null = null;
  if (isEvent(event, 'cn.griddispatch.dispatch.assigned.v1')) {
    id = event.data.grid.id;
    name = event.data.grid.name;
  } else if (isEvent(event, 'cn.griddispatch.workorder.updated.v1')) {
    id = event.data.gridId ?? memory.gridOf(event.data.workOrderId);
  } else if (isEvent(event, 'cn.griddispatch.sla.warning.v1') || isEvent(event, 'cn.griddispatch.sla.breached.v1')) {
    id = event.data.gridId;
  }
  return { id, name: name ?? memory.gridName(id) ?? null };
}

/** `--grid G` matches a grid id or name; records without a grid never match. */
export function matchesGrid(grid: { id: string | null; name: string | null }, wanted: string | undefined): boolean {
  if (wanted === undefined) return true;
  return grid.id === wanted || grid.name === wanted;
}

function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

function deadlinePart(stage: Stage, deadline: Date, opts: TailFormatOptions, paint: Paint): string {
  const left = timeLeft(deadline, opts.now);
  const style = left.overdue ? 'red' : left.ms < 10 * 60_000 ? 'yellow' : 'green';
  return `${STAGE_WORDS[stage]}截止 ${deadlineTime(deadline, opts.now, opts.timeZone)} (${paint(style, left.text)})`;
}

function nextDeadlinePart(workOrderId: string, memory: TailMemory, opts: TailFormatOptions, paint: Paint): string | null {
  const next = memory.nextDeadline(workOrderId);
  return next ? deadlinePart(next.stage, next.deadline, opts, paint) : null;
}

/** What happened, in words. */
function describe(event: CloudEvent, memory: TailMemory, opts: TailFormatOptions, paint: Paint): string {
  const parts: string[] = [];
  if (isEvent(event, 'cn.griddispatch.request.received.v1')) {
    const d = event.data;
    const where = d.location.districtCode
      ? `台区 ${d.location.districtCode}`
      : d.location.communityCode
        ? `社区 ${d.location.communityCode}`
        : d.customer?.accountNo
          ? `户号 ${d.customer.accountNo}`
          : '坐标';
    parts.push(`${paint('blue', '受理')} ${d.source} ${CATEGORY_NAMES[d.category]}`, where);
    if (d.urgency !== 'normal') parts.push(d.urgency === 'critical' ? paint('red', '特急') : paint('yellow', '紧急'));
    if (d.customer?.classes?.length) parts.push(d.customer.classes.join(','));
  } else if (isEvent(event, 'cn.griddispatch.dispatch.assigned.v1')) {
    const d = event.data;
    const people = [...d.assignees]
      .sort((a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role))
      .map((a) => `${maskName(a.name)} (${a.role})`)
      .join(', ');
    parts.push(`${paint('green', '派单')} ${d.grid.name} → ${people || '无人值班'}`, `${CATEGORY_NAMES[d.request.category]}`, d.sla.policy);
    if (d.incidentId && (d.incidentSize ?? 1) > 1) parts.push(`合并故障 ×${d.incidentSize}`);
    const next = nextDeadlinePart(d.workOrderId, memory, opts, paint);
    if (next) parts.push(next);
  } else if (isEvent(event, 'cn.griddispatch.dispatch.unroutable.v1')) {
    const d = event.data;
    parts.push(`${paint(['magenta', 'bold'], '无法派单')} ${CATEGORY_NAMES[d.request.category]}`, d.reason, `转 ${d.fallbackDesk}`);
  } else if (isEvent(event, 'cn.griddispatch.workorder.updated.v1')) {
    const d = event.data;
    let head = `${paint('cyan', STATUS_WORDS[d.status])} (${d.previousStatus} → ${d.status})`;
    if (d.by) head += ` by ${maskName(d.by)}`;
    if (d.type === 'reassigned' && d.assignee) head += ` → ${maskName(d.assignee.name)}`;
    parts.push(head);
    if (d.note) parts.push(d.note);
    const next = nextDeadlinePart(d.workOrderId, memory, opts, paint);
    if (next) parts.push(next);
  } else if (isEvent(event, 'cn.griddispatch.sla.warning.v1')) {
    const d = event.data;
    parts.push(`${paint('yellow', '预警')} ${STAGE_WORDS[d.stage]}即将超时`, d.policy, deadlinePart(d.stage, new Date(d.deadline), opts, paint));
    if (d.late) parts.push('补发');
  } else if (isEvent(event, 'cn.griddispatch.sla.breached.v1')) {
    const d = event.data;
    const deadline = new Date(d.deadline);
    parts.push(
      `${paint(['red', 'bold'], `超时 L${d.level}`)} ${STAGE_WORDS[d.stage]}截止 ${deadlineTime(deadline, opts.now, opts.timeZone)} (${paint('red', `已超 ${compactDuration(d.latenessMs)}`)})`,
      d.policy,
    );
    if (d.notify.length > 0) parts.push(`通知 ${d.notify.join(', ')}`);
    if (d.late) parts.push('补发');
  }
  return parts.join(' · ');
}

function workOrderOf(event: CloudEvent): string {
  const data = event.data as { workOrderId?: string; id?: string };
  return data.workOrderId ?? data.id ?? event.subject;
}

function dlqPrefix(record: TailRecord, paint: Paint): string {
  const h = record.headers;
  const source = h[DlqHeaders.sourceOffset] ? ` ${h[DlqHeaders.sourcePartition] ?? '?'}@${h[DlqHeaders.sourceOffset]}` : '';
  // The bus writes the error as `<name>: <message>`.
  const dlqError = h[DlqHeaders.error];
  const error = dlqError ? ` ${cleanText(dlqError)}` : '';
  return `${paint(['red', 'bold'], '死信')} ×${h[DlqHeaders.attempts] ?? '?'}${source}${error}`;
}

/**
 * One line (no newline) for a record, or null when `--grid` filters it out. Teaches `memory`
 * first, so a dispatch line already shows its own deadlines.
 */
export function formatTailLine(record: TailRecord, memory: TailMemory, opts: TailFormatOptions & { grid?: string }): string | null {
  const paint = painter(opts.color);
  const isDlq = record.topic.endsWith('.dlq');
  let event: CloudEvent | null = null;
  let parseError: string | null = null;
  try {
    // Every string in it is cleaned of terminal control before anything is printed.
    event = cleanDeep(parseEvent(record.value));
  } catch (err) {
    parseError = cleanText(err instanceof Error ? err.message : String(err));
  }
  if (event && !isDlq) memory.learn(event);

  const grid = event ? gridOfEvent(event, memory) : { id: null, name: null };
  if (!matchesGrid(grid, opts.grid)) return null;

  const at = event ? new Date(event.time) : opts.now;
  const time = paint('dim', clockTime(at, opts.timeZone));
  const gridText = paint('cyan', grid.name ?? grid.id ?? '—');
  const wo = paint('yellow', shortId(event ? workOrderOf(event) : cleanText(record.key ?? '—')));
  const what: string[] = [];
  if (isDlq) what.push(dlqPrefix(record, paint));
  if (event) what.push(describe(event, memory, opts, paint));
  else what.push(`${paint('red', '无法解析')} ${parseError}`);
  return `${time}  ${gridText}  ${wo}  ${what.join(' · ')}`;
}
