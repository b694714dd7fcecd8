import type { RequestStatus, Stage } from '@griddispatch/contracts';
import { localPartsText } from '@griddispatch/sla';

// Text helpers shared by the operator commands: local times in GD_TIME_ZONE, "time left",
// terminal colours, and tables aligned for Chinese text (a CJK character takes two columns).

export const STAGE_WORDS: Record<Stage, string> = { ack: '响应', arrive: '到达', resolve: '办结', callback: '回访' };

export const STATUS_WORDS: Record<RequestStatus, string> = {
  received: '已受理',
  assigned: '已派单',
  unroutable: '无法派单',
  acknowledged: '已响应',
  en_route: '在途',
  arrived: '已到达',
  resolved: '已办结',
  closed: '已关闭',
  suspended: '挂起',
  cancelled: '已取消',
};

/** Stages a request in `status` has already satisfied (docs/architecture.md#sla-policy: a stage ends with its event). */
export function satisfiedStages(status: RequestStatus): Set<Stage> {
  const order: RequestStatus[] = ['acknowledged', 'en_route', 'arrived', 'resolved', 'closed'];
  const at = order.indexOf(status);
  const done = new Set<Stage>();
  if (at >= 0) done.add('ack');
  if (at >= order.indexOf('arrived')) done.add('arrive');
  if (at >= order.indexOf('resolved')) done.add('resolve');
  if (at >= order.indexOf('closed')) done.add('callback');
  return done;
}

/** Statuses with no running clock: nothing is due. */
export function isSettled(status: RequestStatus): boolean {
  return status === 'closed' || status === 'cancelled' || status === 'unroutable';
}

// --- time --------------------------------------------------------------------------------------

/** `14:05:12` in the zone. */
export function clockTime(date: Date, timeZone: string): string {
  const p = localPartsText(timeZone, date);
  return `${p.hour}:${p.minute}:${p.second}`;
}

/** `2026-11-03 14:05:12` in the zone. */
export function dateTime(date: Date, timeZone: string): string {
  const p = localPartsText(timeZone, date);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** A deadline as an operator reads it: `14:32` today, `11-04 09:00` on another day. */
export function deadlineTime(deadline: Date, now: Date, timeZone: string): string {
  const d = localPartsText(timeZone, deadline);
  const n = localPartsText(timeZone, now);
  const hm = `${d.hour}:${d.minute}`;
  if (d.year === n.year && d.month === n.month && d.day === n.day) return hm;
  return d.year === n.year ? `${d.month}-${d.day} ${hm}` : `${d.year}-${d.month}-${d.day} ${hm}`;
}

/** When something happened, as short as is unambiguous: `14:05:12` today, `11-02 09:14` this year. */
export function eventTime(date: Date, now: Date, timeZone: string): string {
  const d = localPartsText(timeZone, date);
  const n = localPartsText(timeZone, now);
  if (d.year === n.year && d.month === n.month && d.day === n.day) return `${d.hour}:${d.minute}:${d.second}`;
  return d.year === n.year ? `${d.month}-${d.day} ${d.hour}:${d.minute}` : `${d.year}-${d.month}-${d.day}`;
}

/** Compact duration, rounded down: `45s`, `27m`, `1h05m`, `2d03h`. */
export function compactDuration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** `剩余 27m` before the deadline, `已过 3m` after it. */
export function timeLeft(deadline: Date, now: Date): { text: string; overdue: boolean; ms: number } {
  const ms = deadline.getTime() - now.getTime();
  return ms >= 0 ? { text: `剩余 ${compactDuration(ms)}`, overdue: false, ms } : { text: `已过 ${compactDuration(ms)}`, overdue: true, ms };
}

// --- colours -------------------------------------------------------------------------------------

const STYLES = {
  dim: [2, 22],
  bold: [1, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
} as const;
export type Style = keyof typeof STYLES;

export type Paint = (style: Style | Style[], text: string) => string;

/** ANSI styling when `enabled` (stdout is a terminal), plain text otherwise. */
export function painter(enabled: boolean): Paint {
  if (!enabled) return (_style, text) => text;
  return (style, text) => {
    const list = Array.isArray(style) ? style : [style];
    return list.reduce((acc, s) => `\u001b[${STYLES[s][0]}m${acc}\u001b[${STYLES[s][1]}m`, text);
  };
}

// Matching the escape character is the point of this pattern.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0x303e) ||
    (code >= 0x3041 && code <= 0x33ff) ||
    (code >= 0x3400 && code <= 0x4dbf) ||
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0xa000 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}

/** Columns `text` takes on a terminal: CJK and full-width characters count two, colours none. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text.replace(ANSI, '')) width += isWide(ch.codePointAt(0) ?? 0) ? 2 : 1;
  return width;
}

export function padDisplay(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

/** Cuts `text` to at most `width` columns, marking the cut with `…`. */
export function truncateDisplay(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const w = isWide(ch.codePointAt(0) ?? 0) ? 2 : 1;
    if (used + w > width - 1) break;
    out += ch;
    used += w;
  }
  return `${out}…`;
}

// Free text from the API and the topics (work-order notes, names, reasons, a DLQ error) is
// written by others: a note carrying ESC sequences could recolour the terminal, move the cursor,
// rewrite earlier lines or set the window title (issue 17.6). Whole escape sequences go first
// (CSI, OSC, other two-character ESC), then every C0/C1 control character except \n and \t,
// and the bidirectional overrides that make text display in another order than it reads.
const ESCAPE_SEQUENCES =
  // eslint-disable-next-line no-control-regex -- matching escape sequences is the point
  /\u001b\[[0-?]*[ -/]*[@-~]|\u009b[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u009d[^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]/g;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` without terminal escape sequences and control characters (\n and \t stay). */
export function cleanText(text: string): string {
  return text.replace(ESCAPE_SEQUENCES, '').replace(CONTROL, '');
}

/** `value` with `cleanText` applied to every string in it (API answers and events before they are printed). */
export function cleanDeep<T>(value: T): T {
  if (typeof value === 'string') return cleanText(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => cleanDeep(v)) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [cleanText(k), cleanDeep(v)])) as T;
  }
  return value;
}

/** Rows under a header, columns separated by two spaces; the last column is not padded. */
export function renderTable(headers: string[], rows: string[][], paint: Paint = painter(false)): string {
  const widths = headers.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : padDisplay(c, widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [paint('bold', line(headers)), ...rows.map(line)].join('\n') + '\n';
}
