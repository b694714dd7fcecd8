import { describe, expect, it } from 'vitest';
import { isOnDuty, localTime, staffOnDuty } from './roster.ts';
import type { RosterEntry, Weekday } from './types.ts';

const TZ = 'Asia/Shanghai';
/** An instant given as Shanghai wall-clock time (UTC+8, no DST). */
const at = (local: string): Date => new Date(`${local}+08:00`);
const shift = (days: Weekday[], start: string, end: string, extra: Partial<RosterEntry> = {}): RosterEntry => ({
  staffId: 'S1',
  days,
  start,
  end,
  validFrom: null,
  validTo: null,
  ...extra,
});

// 2026-11-20 is a Friday.
describe('isOnDuty', () => {
  it('reads the wall clock in the configured time zone', () => {
    expect(localTime(new Date('2026-11-20T16:30:00Z'), TZ)).toEqual({ date: '2026-11-21', weekday: 6, minutes: 30 });
  });

  it('covers a day shift from start (inclusive) to end (exclusive) on its days', () => {
    const day = shift([1, 2, 3, 4, 5], '08:30', '17:30');
    expect(isOnDuty(day, at('2026-11-20T08:29:59'), TZ)).toBe(false);
    expect(isOnDuty(day, at('2026-11-20T08:30:00'), TZ)).toBe(true);
    expect(isOnDuty(day, at('2026-11-20T17:29:59'), TZ)).toBe(true);
    expect(isOnDuty(day, at('2026-11-20T17:30:00'), TZ)).toBe(false);
    expect(isOnDuty(day, at('2026-11-21T10:00:00'), TZ)).toBe(false); // Saturday
  });

  it('gives the after-midnight tail of a night shift to the day the shift started', () => {
    const night = shift([5, 6], '22:00', '06:00'); // Friday and Saturday nights
    expect(isOnDuty(night, at('2026-11-20T21:59:00'), TZ)).toBe(false);
    expect(isOnDuty(night, at('2026-11-20T22:00:00'), TZ)).toBe(true);
    expect(isOnDuty(night, at('2026-11-21T00:00:00'), TZ)).toBe(true); // Saturday 00:00, Friday's shift
    expect(isOnDuty(night, at('2026-11-21T05:59:00'), TZ)).toBe(true);
    expect(isOnDuty(night, at('2026-11-21T06:00:00'), TZ)).toBe(false);
    expect(isOnDuty(night, at('2026-11-22T05:00:00'), TZ)).toBe(true); // Sunday morning, Saturday's shift
    expect(isOnDuty(night, at('2026-11-23T05:00:00'), TZ)).toBe(false); // Monday morning: no Sunday shift
    expect(isOnDuty(night, at('2026-11-19T23:00:00'), TZ)).toBe(false); // Thursday night
  });

  it('runs a 24 h shift from start to the same time next day, wrapping Sunday → Monday', () => {
    const crew = shift([1, 4, 7], '08:00', '08:00');
    expect(isOnDuty(crew, at('2026-11-22T08:00:00'), TZ)).toBe(true); // Sunday
    expect(isOnDuty(crew, at('2026-11-23T07:59:00'), TZ)).toBe(true); // Monday morning, Sunday's shift
    expect(isOnDuty(crew, at('2026-11-23T08:00:00'), TZ)).toBe(true); // Monday's own shift
    expect(isOnDuty(crew, at('2026-11-25T07:59:00'), TZ)).toBe(false); // Wednesday morning: Tuesday is not a crew day
    expect(isOnDuty(shift([3], '00:00', '00:00'), at('2026-11-25T23:59:00'), TZ)).toBe(true);
    expect(isOnDuty(shift([3], '00:00', '24:00'), at('2026-11-26T00:00:00'), TZ)).toBe(false);
  });

  it('honours validFrom/validTo by the day the shift starts', () => {
    const night = shift([5], '22:00', '06:00', { validFrom: '2026-11-20', validTo: '2026-11-20' });
    expect(isOnDuty(night, at('2026-11-21T03:00:00'), TZ)).toBe(true); // tail of the 20th's shift
    expect(isOnDuty(night, at('2026-11-27T23:00:00'), TZ)).toBe(false);
    expect(isOnDuty(shift([5], '22:00', '06:00', { validFrom: '2026-11-21' }), at('2026-11-21T03:00:00'), TZ)).toBe(false);
  });

  it('lists who is on duty', () => {
    const rosters = [shift([5], '08:30', '17:30'), { ...shift([5], '17:30', '22:00'), staffId: 'S2' }, { ...shift([5], '08:00', '08:00'), staffId: 'S3' }];
    expect([...staffOnDuty(rosters, at('2026-11-20T18:00:00'), TZ)].sort()).toEqual(['S2', 'S3']);
  });
});
