import { z } from 'zod';
import { zoneOffsetMs } from '@griddispatch/sla';

// Chinese government and utility systems send wall-clock times without an offset
// ("2026-11-23 19:40:05", Beijing time). We turn them into instants in GD_TIME_ZONE.

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;

/** "yyyy-MM-dd HH:mm[:ss]" in `timeZone` → ISO-8601 UTC, or null when it is no such time. */
export function localToIso(text: string, timeZone: string): string | null {
  const m = LOCAL.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi, Number.isNaN(s) ? 0 : s);
  const check = new Date(wall);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || (s || 0) > 59) return null;
  const utc = wall - zoneOffsetMs(timeZone, wall);
  // Second pass for instants near an offset change (no DST in China; elsewhere it matters).
  return new Date(wall - zoneOffsetMs(timeZone, utc)).toISOString();
}

/** A local wall-clock time field, validated for shape (the conversion happens in the mapping). */
export const LocalDateTime = z.string().trim().regex(LOCAL, 'expected "yyyy-MM-dd HH:mm:ss" local time');
