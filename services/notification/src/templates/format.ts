import { localPartsText } from '@griddispatch/sla';
import type { Locale } from './types.ts';

// Times in the station's zone (GD_TIME_ZONE): a field worker reads "截止14:32", never UTC.

/** `14:32`, or `11-24 14:32` when `at` falls on another local day than `reference`. */
export function formatClock(at: Date | string, timeZone: string, reference?: Date | string): string {
  const p = localPartsText(timeZone, new Date(at));
  const hm = `${p.hour}:${p.minute}`;
  if (reference === undefined) return hm;
  const r = localPartsText(timeZone, new Date(reference));
  if (r.year === p.year && r.month === p.month && r.day === p.day) return hm;
  return `${p.month}-${p.day} ${hm}`;
}

/** Rounded duration for people: `30分钟`, `2小时`, `1小时30分钟` / `30 min`, `2 h`, `1 h 30 min`. */
export function formatDuration(ms: number, locale: Locale): string {
  const totalMin = Math.max(0, Math.round(ms / 60_000));
  if (totalMin < 1 && ms > 0) return locale === 'zh-CN' ? `${Math.max(1, Math.round(ms / 1000))}秒` : `${Math.max(1, Math.round(ms / 1000))} s`;
  const h = Math.floor(totalMin / 60);
  const m = totalMin % 60;
  if (locale === 'zh-CN') {
    if (h === 0) return `${m}分钟`;
    return m === 0 ? `${h}小时` : `${h}小时${m}分钟`;
  }
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

/** The first 8 characters of a work-order id: enough to find it, short enough for an SMS. */
export function shortId(id: string): string {
  return id.replace(/-/g, '').slice(0, 8).toUpperCase();
}

/** Markdown content of a WeCom robot message is limited to 4096 bytes of UTF-8. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const b = Buffer.byteLength(ch, 'utf8');
    if (bytes + b > maxBytes - 3) break;
    out += ch;
    bytes += b;
  }
  return `${out}…`;
}
