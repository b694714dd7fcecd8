import { z } from 'zod';
import { Incident, IncidentStatus, type IncidentOrigin } from '@griddispatch/contracts';
import { apiGet } from './api.ts';
import { cleanDeep, dateTime, deadlineTime, eventTime, painter, renderTable, timeLeft, type Paint } from './format.ts';
import { intOption, loadCliConfig, refuseListOptions, runCommand, UsageError, type CliIo } from './io.ts';

export const INCIDENTS_USAGE = `usage: griddispatch incidents [list] [--status S] [--grid G] [--feeder F] [--limit N] [--json]
       griddispatch incidents show <id> [--json]

Incidents (故障事件: one supply fault, its calls merged into it) over the HTTP API (GD_URL,
default http://127.0.0.1:8080; key GD_API_KEY, default the embedded start's development key),
served by grid-routing. Times in GD_TIME_ZONE.

  list               newest first, as a table: opened, id, status, origin, grid, 台区, calls,
                     customers without power, estimated restoration (ETR) with the time left;
                     台区 incidents listed under their feeder incident
    --status S       ${IncidentStatus.options.join(', ')}
    --grid G         grid id (e.g. HH-G03)
    --feeder F       feeder code
    --limit N        how many (default 50, up to 1000)
  show <id>          one incident with its 台区, nesting, work order and restoration
  --json             the API's JSON instead
`;

const ListResponse = z.object({ items: z.array(Incident), nextCursor: z.string().nullable().optional() });

export const INCIDENT_STATUS_WORDS: Record<IncidentStatus, string> = {
  open: '待派单',
  dispatched: '已派单',
  en_route: '在途',
  arrived: '已到达',
  restored: '已复电',
  closed: '已关闭',
};

const ORIGIN_WORDS: Record<IncidentOrigin, string> = { call: '来电', meter: '电表告警', planned: '计划停电' };
const ETR_SOURCE_WORDS: Record<Incident['etrSource'], string> = { policy: '', manual: ' 人工', planned: ' 计划' };

export interface RenderOptions {
  now: Date;
  timeZone: string;
  color: boolean;
}

function districtsText(i: Incident): string {
  if (i.districtCodes.length === 0) return '—';
  return i.districtCodes.length === 1 ? i.districtCodes[0]! : `${i.districtCodes[0]} 等 ${i.districtCodes.length} 个`;
}

function etrCell(i: Incident, opts: RenderOptions, paint: Paint): string {
  const etr = new Date(i.etr);
  const when = `${deadlineTime(etr, opts.now, opts.timeZone)}${ETR_SOURCE_WORDS[i.etrSource]}`;
  if (i.status === 'restored' || i.status === 'closed') return paint('dim', when);
  const left = timeLeft(etr, opts.now);
  return `${when} (${paint(left.overdue ? 'red' : 'green', left.text)})`;
}

/** Feeder incidents first with their 台区 incidents under them (when both are listed), newest first. */
function nested(items: Incident[]): { incident: Incident; child: boolean }[] {
  const listed = new Set(items.map((i) => i.id));
  const out: { incident: Incident; child: boolean }[] = [];
  for (const root of items.filter((i) => !i.parentId || !listed.has(i.parentId))) {
    out.push({ incident: root, child: false });
    for (const child of items.filter((i) => i.parentId === root.id)) out.push({ incident: child, child: true });
  }
  return out;
}

/** The aligned table of `incidents list`. */
export function renderIncidentTable(raw: Incident[], opts: RenderOptions): string {
  const paint = painter(opts.color);
  // What the API answers was written by others: no terminal control gets through (format.ts).
  const items = cleanDeep(raw);
  const rows = nested(items).map(({ incident: i, child }) => [
    eventTime(new Date(i.openedAt), opts.now, opts.timeZone),
    `${child ? '└ ' : ''}${i.id}${i.kind === 'feeder' ? ` [馈线 ${i.feederCode ?? '?'}]` : ''}`,
    paint(i.status === 'open' ? 'yellow' : i.status === 'restored' || i.status === 'closed' ? 'dim' : 'cyan', INCIDENT_STATUS_WORDS[i.status]),
    ORIGIN_WORDS[i.origin],
    i.gridId,
    districtsText(i),
    String(i.callCount),
    String(i.affectedCustomers),
    etrCell(i, opts, paint),
    i.restorationUnconfirmed ? paint('yellow', '复电待确认') : '',
  ]);
  return renderTable(['开始', '编号', '状态', '来源', '网格', '台区', '来电', '停电户', '预计复电', ''], rows, paint);
}

/** The detail view of `incidents show`. */
export function renderIncidentDetail(raw: Incident, opts: RenderOptions): string {
  const paint = painter(opts.color);
  const i = cleanDeep(raw);
  const lines: string[] = [`${paint('bold', '故障事件')} ${i.id}${i.kind === 'feeder' ? ` (馈线 ${i.feederCode ?? '?'})` : ''}`];
  const field = (label: string, value: string) => lines.push(`  ${paint('dim', label.padEnd(12))}${value}`);
  field('status', `${INCIDENT_STATUS_WORDS[i.status]} (${i.status})`);
  field('origin', `${ORIGIN_WORDS[i.origin]} (${i.origin})${i.plannedOutageId ? ` · planned outage ${i.plannedOutageId}` : ''}`);
  field('grid', `${i.gridId}${i.feederCode ? ` · feeder ${i.feederCode}` : ''}`);
  field('districts', i.districtCodes.length > 0 ? i.districtCodes.join(', ') : '—');
  if (i.parentId) field('parent', i.parentId);
  if (i.childIds.length > 0) field('children', i.childIds.join(', '));
  field('size', `${i.callCount} 来电 · ${i.affectedCustomers} 户停电 · urgency ${i.urgency}`);
  field('opened', dateTime(new Date(i.openedAt), opts.timeZone));
  field(
    'etr',
    `${dateTime(new Date(i.etr), opts.timeZone)} (${i.etrSource})${i.status === 'restored' || i.status === 'closed' ? '' : ` ${timeLeft(new Date(i.etr), opts.now).text}`}`,
  );
  field('work order', i.primaryRequestId ?? '— (none yet)');
  if (i.restoredAt)
    field(
      'restored',
      `${dateTime(new Date(i.restoredAt), opts.timeZone)}${i.restorationUnconfirmed ? paint('yellow', ' · meters still report off (unconfirmed)') : ''}`,
    );
  field('updated', dateTime(new Date(i.updatedAt), opts.timeZone));
  return lines.join('\n') + '\n';
}

function statusOption(value: string | undefined): IncidentStatus | undefined {
  if (value === undefined) return undefined;
  const parsed = IncidentStatus.safeParse(value);
  if (!parsed.success) throw new UsageError(`--status must be one of ${IncidentStatus.options.join(', ')}; got "${value}"`);
  return parsed.data;
}

const INCIDENTS_OPTIONS = {
  status: { type: 'string' },
  grid: { type: 'string' },
  feeder: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** `griddispatch incidents [list] | show <id>`. */
export async function incidents(args: string[], io: CliIo): Promise<number> {
  return runCommand(io, INCIDENTS_USAGE, args, INCIDENTS_OPTIONS, async (parsed) => {
    const [sub = 'list', ...rest] = parsed.positionals;
    const v = parsed.values;
    const config = loadCliConfig(io.env);
    const opts = { now: io.now(), timeZone: config.timeZone, color: io.stdout.isTTY === true };

    if (sub === 'show') {
      if (rest.length !== 1) throw new UsageError('incidents show needs exactly one incident id');
      refuseListOptions('incidents', v, ['status', 'grid', 'feeder', 'limit']);
      const incident = await apiGet(config, `/v1/incidents/${encodeURIComponent(rest[0]!)}`, Incident, io.signal);
      io.stdout.write(v.json ? `${JSON.stringify(incident, null, 2)}\n` : renderIncidentDetail(incident, opts));
      return 0;
    }
    if (sub !== 'list') throw new UsageError(`unknown subcommand "${sub}"`);
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);

    const limit = intOption('limit', v.limit, 50, { min: 1, max: 1000 });
    const query = new URLSearchParams();
    const status = statusOption(v.status);
    if (status) query.set('status', status);
    if (v.grid) query.set('gridId', v.grid);
    if (v.feeder) query.set('feederCode', v.feeder);

    const items: Incident[] = [];
    let cursor: string | null = null;
    do {
      const page = new URLSearchParams(query);
      if (cursor) page.set('cursor', cursor);
      const res: z.infer<typeof ListResponse> = await apiGet(config, `/v1/incidents${page.size > 0 ? `?${page}` : ''}`, ListResponse, io.signal);
      items.push(...res.items);
      cursor = res.nextCursor ?? null;
    } while (cursor && items.length < limit);
    const shown = items.slice(0, limit);
    const more = cursor !== null || items.length > limit;

    if (v.json) {
      io.stdout.write(`${JSON.stringify({ items: shown, nextCursor: cursor }, null, 2)}\n`);
      return 0;
    }
    if (shown.length === 0) {
      io.stdout.write('no incidents match\n');
      return 0;
    }
    io.stdout.write(renderIncidentTable(shown, opts));
    if (more) io.stdout.write(painter(opts.color)('dim', `${shown.length} shown; more with --limit ${Math.min(1000, limit * 2)}\n`));
    return 0;
  });
}
