import { describe, expect, it } from 'vitest';
import { addWorkingTime, isWorkingDay, workingDayMs, workingTimeBetween, type WorkingCalendar } from './calendar.ts';
import { localParts, localPartsText } from './zoned.ts';

const SH = 'Asia/Shanghai';
const H = 3_600_000;
const M = 60_000;
/** Local Shanghai wall time → instant. */
const sh = (local: string): Date => new Date(`${local}+08:00`);

const office: WorkingCalendar = {
  days: [1, 2, 3, 4, 5],
  hours: ['08:30-12:00', '14:00-17:30'],
  holidays: [
    '2026-02-15',
    '2026-02-16',
    '2026-02-17',
    '2026-02-18',
    '2026-02-19',
    '2026-02-20',
    '2026-02-21',
    '2026-02-22',
    '2026-02-23',
    '2026-10-01',
    '2026-10-02',
    '2026-10-03',
    '2026-10-04',
    '2026-10-05',
    '2026-10-06',
    '2026-10-07',
  ],
  workdays: ['2026-02-14', '2026-02-28', '2026-10-10'],
};
const always: WorkingCalendar = { days: [1, 2, 3, 4, 5, 6, 7], hours: ['00:00-24:00'], holidays: [] };

describe('addWorkingTime (office calendar, Asia/Shanghai)', () => {
  it.each([
    ['inside the morning', '2026-03-09T09:00', 1 * H, '2026-03-09T10:00'],
    ['across the lunch break', '2026-03-09T11:30', 1 * H, '2026-03-09T14:30'],
    ['from inside the lunch break', '2026-03-09T12:30', 15 * M, '2026-03-09T14:15'],
    ['before opening', '2026-03-09T07:00', 30 * M, '2026-03-09T09:00'],
    ['after closing', '2026-03-09T20:00', 30 * M, '2026-03-10T09:00'],
    ['using up the day exactly ends at closing', '2026-03-09T16:30', 1 * H, '2026-03-09T17:30'],
    ['Friday 17:00 plus one hour → Monday', '2026-03-06T17:00', 1 * H, '2026-03-09T09:00'],
    ['Friday 17:00 plus one working day (7 h) → Monday 17:00', '2026-03-06T17:00', workingDayMs(office), '2026-03-09T17:00'],
    ['from Saturday', '2026-03-07T10:00', 2 * H, '2026-03-09T10:30'],
    ['over several days', '2026-03-09T10:00', 5 * 7 * H, '2026-03-16T10:00'],
    ['skipping the National Day week', '2026-09-30T17:00', 1 * H, '2026-10-08T09:00'],
    ['onto a make-up Saturday (调休)', '2026-10-09T17:00', 1 * H, '2026-10-10T09:00'],
    ['from a make-up Saturday over the Spring Festival', '2026-02-14T17:00', 1 * H, '2026-02-24T09:00'],
    ['backwards over the weekend', '2026-03-09T09:00', -1 * H, '2026-03-06T17:00'],
    ['backwards over lunch', '2026-03-09T14:30', -1 * H, '2026-03-09T11:30'],
  ])('%s', (_what, start, ms, end) => {
    expect(addWorkingTime(sh(start), ms, office, SH).toISOString()).toBe(sh(end).toISOString());
  });

  it('a one-working-day window opened on Friday at 17:00 ends on the next working day', () => {
    const end = addWorkingTime(sh('2026-03-06T17:00'), workingDayMs(office), office, SH);
    expect(localParts(SH, end)).toMatchObject({ year: 2026, month: 3, day: 9, weekday: 1, hour: 17, minute: 0 });
    // Before the National Day holiday the next working day is a week later.
    const beforeHoliday = addWorkingTime(sh('2026-09-30T17:00'), workingDayMs(office), office, SH);
    expect(localParts(SH, beforeHoliday)).toMatchObject({ month: 10, day: 8, hour: 17 });
  });

  it('is plain clock arithmetic without a calendar', () => {
    expect(addWorkingTime(sh('2026-03-07T23:50'), 20 * M, null, SH).toISOString()).toBe(sh('2026-03-08T00:10').toISOString());
  });

  it('adds nothing for a zero window, even outside working hours', () => {
    expect(addWorkingTime(sh('2026-03-07T23:50'), 0, office, SH).toISOString()).toBe(sh('2026-03-07T23:50').toISOString());
  });

  it('counts hours in the policy time zone, not in UTC', () => {
    const start = new Date('2026-03-09T00:00:00Z'); // 08:00 in Shanghai, 00:00 in UTC
    expect(addWorkingTime(start, 1 * H, office, SH).toISOString()).toBe('2026-03-09T01:30:00.000Z');
    expect(addWorkingTime(start, 1 * H, office, 'UTC').toISOString()).toBe('2026-03-09T09:30:00.000Z');
  });

  it('lets a window cross local midnight with a round-the-clock calendar', () => {
    expect(addWorkingTime(sh('2026-03-09T23:00'), 2 * H, always, SH).toISOString()).toBe(sh('2026-03-10T01:00').toISOString());
  });

  it('fails clearly when a calendar has no working time', () => {
    const never: WorkingCalendar = { days: [6], hours: ['08:00-09:00'], holidays: [], workdays: [] };
    const allSaturdaysOff = { ...never, holidays: Array.from({ length: 600 }, (_, i) => new Date(Date.UTC(2026, 0, 3 + 7 * i)).toISOString().slice(0, 10)) };
    expect(() => addWorkingTime(sh('2026-01-01T00:00'), H, allSaturdaysOff, SH)).toThrow(/no working time/);
  });
});

describe('workingTimeBetween', () => {
  it.each([
    ['inside one range', '2026-03-09T09:00', '2026-03-09T10:15', 75 * M],
    ['over lunch', '2026-03-09T11:00', '2026-03-09T15:00', 2 * H],
    ['Friday 17:00 to Monday 17:00', '2026-03-06T17:00', '2026-03-09T17:00', 7 * H],
    ['a whole weekend', '2026-03-07T00:00', '2026-03-09T00:00', 0],
    ['the Spring Festival with its make-up Saturdays', '2026-02-13T00:00', '2026-03-01T00:00', 7 * 7 * H], // Fri 13, Sat 14, Tue 24 … Fri 27, Sat 28
  ])('%s', (_what, a, b, ms) => {
    expect(workingTimeBetween(sh(a), sh(b), office, SH)).toBe(ms);
  });

  it('is negative when the end comes first, and plain without a calendar', () => {
    expect(workingTimeBetween(sh('2026-03-09T10:00'), sh('2026-03-09T09:00'), office, SH)).toBe(-1 * H);
    expect(workingTimeBetween(sh('2026-03-07T10:00'), sh('2026-03-07T11:00'), null, SH)).toBe(H);
  });

  it('inverts addWorkingTime from any start', () => {
    let seed = 42;
    const rand = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 500; i++) {
      const start = new Date(sh('2026-01-01T00:00').getTime() + Math.floor(rand() * 360) * 86_400_000 + Math.floor(rand() * 1440) * M);
      const ms = Math.floor(rand() * 60 * H);
      const end = addWorkingTime(start, ms, office, SH);
      expect(workingTimeBetween(start, end, office, SH)).toBe(ms);
      expect(addWorkingTime(end, -ms, office, SH).getTime()).toBeLessThanOrEqual(Math.max(start.getTime(), end.getTime()));
    }
  });

  it('has no daylight saving in Asia/Shanghai: every day of 2026 has 24 hours', () => {
    expect(workingTimeBetween(sh('2026-01-01T00:00'), sh('2027-01-01T00:00'), always, SH)).toBe(365 * 24 * H);
    for (const [a, b] of [
      ['2026-03-08T00:00', '2026-03-09T00:00'],
      ['2026-11-01T00:00', '2026-11-02T00:00'],
    ] as const) {
      expect(workingTimeBetween(sh(a), sh(b), always, SH)).toBe(24 * H);
    }
  });

  it('follows daylight saving in zones that have it (America/New_York, 8 March 2026)', () => {
    const ny = 'America/New_York';
    const a = new Date('2026-03-08T05:00:00Z'); // local midnight, EST
    const b = new Date('2026-03-09T04:00:00Z'); // next local midnight, EDT
    expect(workingTimeBetween(a, b, always, ny)).toBe(23 * H);
    const nineToFive: WorkingCalendar = { days: [1, 2, 3, 4, 5], hours: ['09:00-17:00'], holidays: [] };
    // Friday 16:00 EST + 2 working hours → Monday 10:00 EDT (14:00 UTC).
    expect(addWorkingTime(new Date('2026-03-06T21:00:00Z'), 2 * H, nineToFive, ny).toISOString()).toBe('2026-03-09T14:00:00.000Z');
  });
});

describe('isWorkingDay', () => {
  it.each([
    ['2026-03-09', true],
    ['2026-03-07', false],
    ['2026-10-01', false],
    ['2026-10-10', true],
    ['2026-02-14', true],
    ['2026-02-23', false],
  ])('%s → %s', (date, working) => {
    expect(isWorkingDay(office, date)).toBe(working);
  });
});

describe('localPartsText', () => {
  it('prints the zone wall clock zero-padded, with the ISO weekday', () => {
    // 2026-03-01 01:02:03 UTC is 09:02:03 on Sunday 1 March in Shanghai, 17:02:03 on Saturday 28 February in Los Angeles.
    const at = new Date('2026-03-01T01:02:03Z');
    expect(localPartsText('Asia/Shanghai', at)).toEqual({ year: '2026', month: '03', day: '01', hour: '09', minute: '02', second: '03', weekday: 7 });
    expect(localPartsText('America/Los_Angeles', at)).toMatchObject({ month: '02', day: '28', hour: '17', weekday: 6 });
  });
});
