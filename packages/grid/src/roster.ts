import { localPartsText } from '@griddispatch/sla';
import type { RosterEntry, Weekday } from './types.ts';

/** Wall-clock parts of an instant in a time zone. */
export interface LocalTime {
  /** `YYYY-MM-DD`. */
  date: string;
  weekday: Weekday;
  /** Minutes since local midnight. */
  minutes: number;
}

export function localTime(at: Date, timeZone: string): LocalTime {
  const p = localPartsText(timeZone, at);
  return { date: `${p.year}-${p.month}-${p.day}`, weekday: p.weekday, minutes: Number(p.hour) * 60 + Number(p.minute) };
}

/** Minutes since midnight of `HH:MM` (24:00 allowed); NaN when malformed. */
export function parseClock(value: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(value.trim());
  if (!m) return NaN;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return NaN;
  return h * 60 + min;
}

function previousDate(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d - 1)).toISOString().slice(0, 10);
}

function validOn(entry: RosterEntry, date: string): boolean {
  return (entry.validFrom === null || date >= entry.validFrom) && (entry.validTo === null || date <= entry.validTo);
}

/**
 * Whether the shift covers the instant `at`, reading the roster in `timeZone`. A shift that
 * crosses midnight belongs to the day it starts: a Friday 20:00–08:00 shift covers Saturday 07:59.
 */
export function isOnDuty(entry: RosterEntry, at: Date, timeZone: string): boolean {
  return covers(entry, localTime(at, timeZone));
}

/** Ids of the staff with at least one shift covering `at`. */
export function staffOnDuty(rosters: readonly RosterEntry[], at: Date, timeZone: string): Set<string> {
  const now = localTime(at, timeZone);
  const on = new Set<string>();
  for (const r of rosters) if (!on.has(r.staffId) && covers(r, now)) on.add(r.staffId);
  return on;
}

function covers(entry: RosterEntry, now: LocalTime): boolean {
  const start = parseClock(entry.start);
  const end = parseClock(entry.end);
  if (Number.isNaN(start) || Number.isNaN(end)) return false;
  if (end > start) {
    return entry.days.includes(now.weekday) && now.minutes >= start && now.minutes < end && validOn(entry, now.date);
  }
  // Crosses midnight (or 24 h when end == start): the evening part belongs to today's shift,
  // the morning tail to yesterday's.
  if (now.minutes >= start && entry.days.includes(now.weekday) && validOn(entry, now.date)) return true;
  const yesterday = (now.weekday === 1 ? 7 : now.weekday - 1) as Weekday;
  return now.minutes < end && entry.days.includes(yesterday) && validOn(entry, previousDate(now.date));
}
