// Time-zone arithmetic with nothing but Intl: the offset of a zone at an instant, the local civil
// day of an instant, and the instant of a local wall-clock time. Good for any IANA zone, including
// ones with daylight saving; Asia/Shanghai (UTC+8 all year) is the common case here.

const DAY_MS = 86_400_000;
/** Offsets change at most on 15-minute UTC boundaries for modern tz data, so cache per bucket. */
const BUCKET_MS = 900_000;
const CACHE_LIMIT = 20_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, Map<number, number>>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when the runtime knows the IANA zone name. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

function computeOffset(timeZone: string, instant: number): number {
  const parts = formatter(timeZone).formatToParts(instant);
  let y = 0,
    mo = 0,
    d = 0,
    h = 0,
    mi = 0,
    s = 0;
  for (const p of parts) {
    switch (p.type) {
      case 'year':
        y = Number(p.value);
        break;
      case 'month':
        mo = Number(p.value);
        break;
      case 'day':
        d = Number(p.value);
        break;
      case 'hour':
        h = Number(p.value) % 24;
        break;
      case 'minute':
        mi = Number(p.value);
        break;
      case 'second':
        s = Number(p.value);
        break;
      default:
        break;
    }
  }
  const wholeSecond = Math.floor(instant / 1000) * 1000;
  return Date.UTC(y, mo - 1, d, h, mi, s) - wholeSecond;
}

/** Milliseconds to add to a UTC instant to get the zone's wall-clock time at that instant. */
export function zoneOffsetMs(timeZone: string, instant: number): number {
  // Before 1970 some zones used local mean time with second-level offsets: do not bucket those.
  if (instant < 0) return computeOffset(timeZone, instant);
  let cache = offsetCache.get(timeZone);
  if (!cache) {
    cache = new Map();
    offsetCache.set(timeZone, cache);
  }
  const bucket = Math.floor(instant / BUCKET_MS);
  let offset = cache.get(bucket);
  if (offset === undefined) {
    offset = computeOffset(timeZone, bucket * BUCKET_MS);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(bucket, offset);
  }
  return offset;
}

/** A local calendar day as a day number: days since 1970-01-01 in the zone's civil calendar. */
export function localDayNumber(timeZone: string, instant: number): number {
  return Math.floor((instant + zoneOffsetMs(timeZone, instant)) / DAY_MS);
}

/** ISO weekday of a day number: 1 = Monday … 7 = Sunday. */
export function isoWeekday(dayNumber: number): number {
  // 1970-01-01 was a Thursday (ISO 4).
  return ((((dayNumber + 3) % 7) + 7) % 7) + 1;
}

export function dayNumberOfIsoDate(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return Number.NaN;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return Number.NaN;
  return t / DAY_MS;
}

/**
 * The UTC instant at which the zone's wall clock shows `minuteOfDay` (may be 1440 = next midnight)
 * on the given local day. In a daylight-saving gap the later offset wins, like most calendars do.
 */
export function zonedInstant(timeZone: string, dayNumber: number, minuteOfDay: number): number {
  const wall = dayNumber * DAY_MS + minuteOfDay * 60_000;
  const first = zoneOffsetMs(timeZone, wall);
  let t = wall - first;
  const second = zoneOffsetMs(timeZone, t);
  if (second !== first) t = wall - second;
  return t;
}

/** The local wall-clock parts of an instant, e.g. for display and tests. */
export function localParts(
  timeZone: string,
  instant: Date | number,
): { year: number; month: number; day: number; hour: number; minute: number; second: number; weekday: number } {
  const t = typeof instant === 'number' ? instant : instant.getTime();
  const local = new Date(t + zoneOffsetMs(timeZone, t));
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    weekday: isoWeekday(Math.floor(local.getTime() / DAY_MS)),
  };
}

export interface LocalPartsText {
  /** Four digits. */
  year: string;
  /** Two digits each, as printed: `03`, `09`. */
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: 1 | 2 | 3 | 4 | 5 | 6 | 7;
}

/** `localParts` as printed (zero-padded), for whoever writes a local time: `${month}-${day} ${hour}:${minute}`. */
export function localPartsText(timeZone: string, instant: Date | number): LocalPartsText {
  const p = localParts(timeZone, instant);
  const two = (n: number) => String(n).padStart(2, '0');
  return {
    year: String(p.year).padStart(4, '0'),
    month: two(p.month),
    day: two(p.day),
    hour: two(p.hour),
    minute: two(p.minute),
    second: two(p.second),
    weekday: p.weekday as LocalPartsText['weekday'],
  };
}
