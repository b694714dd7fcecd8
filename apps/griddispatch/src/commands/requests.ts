import { z } from 'zod';
import { Category, CATEGORY_NAMES, RequestStatus, RequestView, Stage } from '@griddispatch/contracts';
import { maskName } from '@griddispatch/observability';
import { apiGet } from './api.ts';
import {
  STAGE_WORDS,
  STATUS_WORDS,
  cleanDeep,
  dateTime,
  deadlineTime,
  eventTime,
  isSettled,
  painter,
  renderTable,
  satisfiedStages,
  timeLeft,
  type Paint,
} from './format.ts';
import { intOption, loadCliConfig, refuseListOptions, runCommand, UsageError, type CliIo } from './io.ts';

export const REQUESTS_USAGE = `usage: griddispatch requests list [--status S] [--grid G] [--category C] [--breached] [--limit N] [--json]
       griddispatch requests show <id> [--json]

Requests over the HTTP API (GD_URL, default http://127.0.0.1:8080; key GD_API_KEY, default the
embedded start's development key). Times in GD_TIME_ZONE; names are masked.

  list               newest first, as a table: received, id, source, category, status, grid,
                     assignee, incident (repeated fault calls grouped), next deadline with the
                     time left, SLA breaches
    --status S       ${RequestStatus.options.join(', ')}
    --grid G         grid id (e.g. HH-G03)
    --category C     ${Category.options.join(', ')}
    --breached       only requests with an SLA breach
    --limit N        how many (default 20, up to 1000)
  show <id>          one request with its grid, assignees, deadlines and timeline
  --json             the API's JSON instead
`;

export const RequestSummary = RequestView.omit({ timeline: true, callback: true });
export type RequestSummary = z.infer<typeof RequestSummary>;
const ListResponse = z.object({ items: z.array(RequestSummary), nextCursor: z.string().nullable() });

const PAGE_MAX = 200;

export interface RenderOptions {
  now: Date;
  timeZone: string;
  color: boolean;
}

/** The earliest deadline the request still has to meet, or null. */
export function nextDeadline(r: RequestSummary): { stage: Stage; deadline: Date } | null {
  if (!r.sla || isSettled(r.status) || r.status === 'suspended') return null;
  const done = satisfiedStages(r.status);
  let next: { stage: Stage; deadline: Date } | null = null;
  for (const [stage, iso] of Object.entries(r.sla.deadlines) as [Stage, string | undefined][]) {
    if (!iso || done.has(stage)) continue;
    const deadline = new Date(iso);
    if (!next || deadline < next.deadline) next = { stage, deadline };
  }
  return next;
}

function assigneesText(r: RequestSummary): string {
  if (r.assignees.length === 0) return '—';
  const [first, ...rest] = r.assignees;
  return `${maskName(first!.name)} (${first!.role})${rest.length > 0 ? ` +${rest.length}` : ''}`;
}

function deadlineCell(r: RequestSummary, opts: RenderOptions, paint: Paint): string {
  if (r.status === 'suspended') return paint('dim', '挂起');
  const next = nextDeadline(r);
  if (!next) return '—';
  const left = timeLeft(next.deadline, opts.now);
  const style = left.overdue ? 'red' : left.ms < 10 * 60_000 ? 'yellow' : 'green';
  return `${STAGE_WORDS[next.stage]} ${deadlineTime(next.deadline, opts.now, opts.timeZone)} (${paint(style, left.text)})`;
}

function breachCell(r: RequestSummary, paint: Paint): string {
  const breaches = r.sla?.breaches ?? [];
  if (breaches.length === 0) return '';
  const worst = breaches.reduce((a, b) => (b.level > a.level ? b : a));
  const stages = [...new Set(breaches.map((b) => STAGE_WORDS[b.stage]))].join(',');
  return paint('red', `L${worst.level} ${stages}`);
}

/** The aligned table of `requests list`. */
export function renderRequestTable(raw: RequestSummary[], opts: RenderOptions): string {
  const paint = painter(opts.color);
  // What the API answers was written by others: no terminal control gets through (format.ts).
  const items = cleanDeep(raw);
  const rows = items.map((r) => [
    eventTime(new Date(r.receivedAt), opts.now, opts.timeZone),
    r.id,
    r.source,
    CATEGORY_NAMES[r.category],
    STATUS_WORDS[r.status],
    r.grid?.name ?? '—',
    assigneesText(r),
    // Repeated fault calls from one 台区 share an incident (one crew, one repair): the same short id.
    r.incidentId ? r.incidentId.slice(0, 8) : '',
    deadlineCell(r, opts, paint),
    breachCell(r, paint),
  ]);
  return renderTable(['收到', '编号', '来源', '类别', '状态', '网格', '负责人', '故障事件', '下一截止', '超时'], rows, paint);
}

/** The callback (回访): asked how, answered what. */
function callbackText(c: NonNullable<RequestView['callback']>): string {
  const reply = c.reply === null ? '未答复' : c.reply === 'restored' ? '已恢复供电' : '仍未恢复';
  return `${reply}${c.satisfaction !== null ? ` · 满意度 ${c.satisfaction}` : ''} (${c.bySms ? 'asked by SMS' : 'no mobile: by phone'})`;
}

/** The detail view of `requests show`. */
export function renderRequestDetail(raw: RequestView, opts: RenderOptions): string {
  const paint = painter(opts.color);
  const r = cleanDeep(raw);
  const lines: string[] = [];
  const field = (label: string, value: string) => lines.push(`  ${paint('dim', label.padEnd(10))}${value}`);
  lines.push(`${paint('bold', '请求')} ${r.id}`);
  field('source', `${r.source} · ${r.externalId}`);
  field('category', `${CATEGORY_NAMES[r.category]} (${r.category})`);
  field('status', `${STATUS_WORDS[r.status]} (${r.status})`);
  field('received', dateTime(new Date(r.receivedAt), opts.timeZone));
  field('grid', r.grid ? `${r.grid.name} (${r.grid.id}, ${r.grid.kind})` : '— (not routed yet)');
  if (r.incidentId) field('incident', `${r.incidentId}${r.role ? ` (${r.role === 'merged' ? 'merged: follows the incident' : 'primary'})` : ''}`);
  if (r.etr) field('etr', `${dateTime(new Date(r.etr), opts.timeZone)} (预计复电)`);
  field('assignees', r.assignees.length > 0 ? r.assignees.map((a) => `${maskName(a.name)} (${a.role})`).join(', ') : '—');
  if (r.sla) {
    field('sla', r.sla.policy);
    const done = satisfiedStages(r.status);
    const stages = (Object.entries(r.sla.deadlines) as [Stage, string | undefined][])
      .filter((e): e is [Stage, string] => e[1] !== undefined)
      .sort((a, b) => Date.parse(a[1]) - Date.parse(b[1]));
    for (const [stage, iso] of stages) {
      const deadline = new Date(iso);
      const breached = r.sla.breaches.filter((b) => b.stage === stage);
      let state: string;
      if (done.has(stage)) state = paint('green', '✓ 已完成');
      else if (isSettled(r.status)) state = paint('dim', '—');
      else if (r.status === 'suspended') state = paint('dim', '挂起');
      else {
        const left = timeLeft(deadline, opts.now);
        state = paint(left.overdue ? 'red' : left.ms < 10 * 60_000 ? 'yellow' : 'green', left.text);
      }
      const breach = breached.length > 0 ? `  ${paint('red', `超时 L${Math.max(...breached.map((b) => b.level))}`)}` : '';
      lines.push(`    ${STAGE_WORDS[stage]}  ${deadlineTime(deadline, opts.now, opts.timeZone).padEnd(11)}  ${state}${breach}`);
    }
  } else {
    field('sla', '—');
  }
  if (r.callback) field('callback', callbackText(r.callback));
  lines.push('', paint('bold', 'timeline'));
  for (const t of r.timeline) {
    let text = `  ${paint('dim', dateTime(new Date(t.at), opts.timeZone))}  ${t.type}`;
    // Field events are done by people (masked); the others by systems, e.g. the API key that submitted.
    if (t.by) text += t.type.startsWith('workorder.') ? ` by ${maskName(t.by)}` : ` via ${t.by}`;
    if (t.note) text += ` · ${t.note}`;
    lines.push(text);
  }
  if (r.timeline.length === 0) lines.push('  —');
  return lines.join('\n') + '\n';
}

function enumOption<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}; got "${value}"`);
  return value as T;
}

const REQUESTS_OPTIONS = {
  status: { type: 'string' },
  grid: { type: 'string' },
  category: { type: 'string' },
  breached: { type: 'boolean' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** `griddispatch requests list|show`. */
export async function requests(args: string[], io: CliIo): Promise<number> {
  return runCommand(io, REQUESTS_USAGE, args, REQUESTS_OPTIONS, async (parsed) => {
    const [sub, ...rest] = parsed.positionals;
    const v = parsed.values;
    const config = loadCliConfig(io.env);
    const opts = { now: io.now(), timeZone: config.timeZone, color: io.stdout.isTTY === true };

    if (sub === 'show') {
      if (rest.length !== 1) throw new UsageError('requests show needs exactly one request id');
      refuseListOptions('requests', v, ['status', 'grid', 'category', 'breached', 'limit']);
      const id = rest[0]!;
      const view = await apiGet(config, `/v1/requests/${encodeURIComponent(id)}`, RequestView, io.signal);
      io.stdout.write(v.json ? `${JSON.stringify(view, null, 2)}\n` : renderRequestDetail(view, opts));
      return 0;
    }
    if (sub !== 'list') throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'requests needs a subcommand: list or show');
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);

    const limit = intOption('limit', v.limit, 20, { min: 1, max: 1000 });
    const query = new URLSearchParams();
    const status = enumOption('status', v.status, RequestStatus.options);
    const category = enumOption('category', v.category, Category.options);
    if (status) query.set('status', status);
    if (category) query.set('category', category);
    if (v.grid) query.set('gridId', v.grid);
    if (v.breached) query.set('breached', 'true');

    const items: RequestSummary[] = [];
    let cursor: string | null = null;
    do {
      const page = new URLSearchParams(query);
      page.set('limit', String(Math.min(PAGE_MAX, limit - items.length)));
      if (cursor) page.set('cursor', cursor);
      const res: z.infer<typeof ListResponse> = await apiGet(config, `/v1/requests?${page}`, ListResponse, io.signal);
      items.push(...res.items);
      cursor = res.nextCursor;
    } while (cursor && items.length < limit);

    if (v.json) {
      io.stdout.write(`${JSON.stringify({ items, nextCursor: cursor }, null, 2)}\n`);
      return 0;
    }
    if (items.length === 0) {
      io.stdout.write('no requests match\n');
      return 0;
    }
    io.stdout.write(renderRequestTable(items, opts));
    if (cursor) io.stdout.write(painter(opts.color)('dim', `${items.length} shown; more with --limit ${Math.min(1000, limit * 2)}\n`));
    return 0;
  });
}
