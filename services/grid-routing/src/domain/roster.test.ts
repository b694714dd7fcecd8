import { describe, expect, it } from 'vitest';
import { entryCovers, isOnDuty, parseClock, type RosterEntry } from './roster.ts';

const TZ = 'Asia/Shanghai';
// 2026-11-23 is a Monday. Shanghai is UTC+8 all year.
const local = (iso: string) => new Date(`${iso}+08:00`);

describe('weekly shifts in local time', () => {
  const night: RosterEntry = { kind: 'weekly', weekdays: [1], startTime: '20:00', endTime: '08:00' };

  it('covers the evening of the start day and the morning after, across midnight', () => {
    expect(entryCovers(night, local('2026-11-23T19:59:59'), TZ)).toBe(false);
    expect(entryCovers(night, local('2026-11-23T20:00:00'), TZ)).toBe(true);
    expect(entryCovers(night, local('2026-11-23T23:59:59'), TZ)).toBe(true);
    expect(entryCovers(night, local('2026-11-24T00:00:00'), TZ)).toBe(true);
    expect(entryCovers(night, local('2026-11-24T07:59:59'), TZ)).toBe(true);
    expect(entryCovers(night, local('2026-11-24T08:00:00'), TZ)).toBe(false);
  });

  it('does not cover the morning of the start day (that belongs to the previous day’s shift)', () => {
    expect(entryCovers(night, local('2026-11-23T03:00:00'), TZ)).toBe(false);
    // Sunday night's shift would: Sunday is not in the roster.
    expect(entryCovers({ ...night, weekdays: [7] }, local('2026-11-23T03:00:00'), TZ)).toBe(true);
  });

  it('wraps Sunday night into Monday morning', () => {
    const sunday: RosterEntry = { kind: 'weekly', weekdays: [7], startTime: '22:00', endTime: '06:00' };
    expect(entryCovers(sunday, local('2026-11-22T23:00:00'), TZ)).toBe(true);
    expect(entryCovers(sunday, local('2026-11-23T05:30:00'), TZ)).toBe(true);
    expect(entryCovers(sunday, local('2026-11-23T06:00:00'), TZ)).toBe(false);
  });

  it('reads the wall clock in the configured zone, not UTC', () => {
    const day: RosterEntry = { kind: 'weekly', weekdays: [1, 2, 3, 4, 5], startTime: '08:30', endTime: '17:30' };
    const at = new Date('2026-11-23T01:00:00Z'); // 09:00 in Shanghai, 01:00 in UTC
    expect(entryCovers(day, at, TZ)).toBe(true);
    expect(entryCovers(day, at, 'UTC')).toBe(false);
  });

  it('treats equal start and end as a 24-hour shift', () => {
    const full: RosterEntry = { kind: 'weekly', weekdays: [1], startTime: '08:00', endTime: '08:00' };
    expect(entryCovers(full, local('2026-11-23T08:00:00'), TZ)).toBe(true);
    expect(entryCovers(full, local('2026-11-24T07:59:00'), TZ)).toBe(true);
    expect(entryCovers(full, local('2026-11-24T08:00:00'), TZ)).toBe(false);
  });
});

describe('one-off windows and staff without a roster', () => {
  it('covers [startsAt, endsAt)', () => {
    const w: RosterEntry = { kind: 'window', startsAt: local('2026-11-23T22:00:00'), endsAt: local('2026-11-24T06:00:00') };
    expect(entryCovers(w, local('2026-11-23T21:59:59'), TZ)).toBe(false);
    expect(entryCovers(w, local('2026-11-24T02:00:00'), TZ)).toBe(true);
    expect(entryCovers(w, local('2026-11-24T06:00:00'), TZ)).toBe(false);
  });

  it('considers staff without roster entries available, staff with entries only inside them', () => {
    const at = local('2026-11-23T12:00:00');
    expect(isOnDuty(undefined, at, TZ)).toBe(true);
    expect(isOnDuty([], at, TZ)).toBe(true);
    expect(isOnDuty([{ kind: 'weekly', weekdays: [2], startTime: '08:00', endTime: '17:00' }], at, TZ)).toBe(false);
  });

  it('rejects malformed times of day', () => {
    expect(parseClock('07:05')).toBe(425);
    expect(() => parseClock('24:00')).toThrow(/invalid time of day/);
    expect(() => parseClock('7pm')).toThrow(/invalid time of day/);
  });
});
