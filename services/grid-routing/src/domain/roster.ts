// Who is on duty at an instant. Weekly shifts are written in local wall-clock time of the
// configured zone (GD_TIME_ZONE); a shift whose end is not after its start runs past midnight
// into the next day, so "Mon 20:00-08:00" covers Tuesday 07:59 but not Tuesday 08:00.

export type RosterEntry =
  | { kind: 'window'; startsAt: Date; endsAt: Date }
  | {
      kind: 'weekly';
      /** ISO weekdays the shift STARTS on: 1 = Monday … 7 = Sunday. */
      weekdays: number[];
      /** Local "HH:MM" (or "HH:MM:SS"). */
      startTime: string;
      endTime: string;
    };

interface LocalTime {
  /** ISO weekday, 1 = Monday. */
  weekday: number;
  /** Minutes since local midnight. */
  minute: number;
}

const WEEKDAY: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

export function localTime(at: Date, timeZone: string): LocalTime {
  let weekday = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of formatterFor(timeZone).formatToParts(at)) {
    if (part.type === 'weekday') weekday = WEEKDAY[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
    else if (part.type === 'second') second = Number(part.value);
  }
  return { weekday, minute: hour * 60 + minute + second / 60 };
}

/** "08:30" / "08:30:00" → minutes since midnight; throws on anything else. */
export function parseClock(text: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/.exec(text.trim());
  if (!m) throw new Error(`invalid time of day "${text}" (want HH:MM, 00:00-23:59)`);
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3] ?? 0) / 60;
}

function previousWeekday(weekday: number): number {
  return weekday === 1 ? 7 : weekday - 1;
}

export function entryCovers(entry: RosterEntry, at: Date, timeZone: string): boolean {
  if (entry.kind === 'window') return at.getTime() >= entry.startsAt.getTime() && at.getTime() < entry.endsAt.getTime();
  const start = parseClock(entry.startTime);
  const end = parseClock(entry.endTime);
  const local = localTime(at, timeZone);
  if (end > start) return entry.weekdays.includes(local.weekday) && local.minute >= start && local.minute < end;
  // Crosses midnight (end == start means a 24-hour shift).
  if (entry.weekdays.includes(local.weekday) && local.minute >= start) return true;
  return entry.weekdays.includes(previousWeekday(local.weekday)) && local.minute < end;
}

/**
 * A staff member with no roster entries is always available (the station does not manage a
 * roster for them); one with entries is on duty only inside one of them.
 */
export function isOnDuty(entries: readonly RosterEntry[] | undefined, at: Date, timeZone: string): boolean {
  if (!entries || entries.length === 0) return true;
  return entries.some((e) => entryCovers(e, at, timeZone));
}
