import { describe, expect, it } from 'vitest';
import { localToIso } from './local-time.ts';

describe('local wall-clock times', () => {
  it('reads Beijing time as UTC+8', () => {
    expect(localToIso('2026-11-23 19:40:05', 'Asia/Shanghai')).toBe('2026-11-23T11:40:05.000Z');
    expect(localToIso('2026-01-01 00:30', 'Asia/Shanghai')).toBe('2025-12-31T16:30:00.000Z');
  });

  it('follows the zone’s offset on the day', () => {
    expect(localToIso('2026-07-01 12:00:00', 'Europe/Berlin')).toBe('2026-07-01T10:00:00.000Z');
    expect(localToIso('2026-01-01 12:00:00', 'Europe/Berlin')).toBe('2026-01-01T11:00:00.000Z');
  });

  it('refuses impossible times', () => {
    expect(localToIso('2026-02-30 10:00:00', 'Asia/Shanghai')).toBeNull();
    expect(localToIso('2026-11-23 24:00:00', 'Asia/Shanghai')).toBeNull();
    expect(localToIso('23/11/2026 10:00', 'Asia/Shanghai')).toBeNull();
  });
});
