import { describe, expect, it } from 'vitest';
import { DurationError, formatDuration, parseDuration, parseDurationParts } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['0s', 0],
    ['90s', 90_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['3h45m', 13_500_000],
    ['1d2h', 93_600_000],
    [' 15m ', 900_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '5', 'm', '5 m', '1.5h', '-5m', '5min', '2H', '1h1h', 'h5', '5m3'])('rejects %j with a hint', (text) => {
    expect(() => parseDuration(text)).toThrow(DurationError);
    expect(() => parseDuration(text)).toThrow(/e\.g\. 90s, 5m, 2h, 1d|given twice/);
  });

  it('keeps days apart so calendars can count working days', () => {
    expect(parseDurationParts('5d')).toEqual({ days: 5, ms: 0 });
    expect(parseDurationParts('1d30m')).toEqual({ days: 1, ms: 1_800_000 });
  });

  it.each([
    [0, '0s'],
    [90_000, '1m30s'],
    [13_500_000, '3h45m'],
    [-300_000, '-5m'],
    [86_400_000, '1d'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
