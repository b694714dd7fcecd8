import { writeFile } from 'node:fs/promises';
import { dayNumberOfIsoDate, zonedInstant } from '@griddispatch/sla';
import { apiGetText } from './api.ts';
import { cleanText } from './format.ts';
import { loadCliConfig, runCommand, UsageError, type CliIo } from './io.ts';

export const REPORT_USAGE = `usage: griddispatch report reliability --from T --to T [--group-by grid|feeder] [--include-med] [--out file.csv]
       griddispatch report response --from T --to T [--group-by grid|category|grid_category] [--out file.csv]

Reports (docs/architecture.md#reports) as CSV, over the HTTP API (GD_URL, default http://127.0.0.1:8080; key
GD_API_KEY, default the embedded start's development key), served by grid-routing.

  reliability        IEEE 1366 per grid or feeder: customers served, customer interruptions,
                     customer-minutes, SAIFI, SAIDI, CAIDI (min), ASAI; interruptions starting on
                     a major event day (2.5β) left out unless --include-med
  response           per grid, category or both: mean time to acknowledge and to restore (min),
                     share of arrivals within the committed window, share restored before the ETR
  --from T, --to T   the period [from, to): a date (YYYY-MM-DD, midnight in GD_TIME_ZONE) or an
                     ISO date-time with offset
  --group-by G       grid (default); feeder (reliability); category, grid_category (response)
  --include-med      count major event days too (reliability only)
  --out FILE         write the CSV there (default: stdout); the major event days go to stderr
`;

/** `--from`/`--to` as an instant: a date is its midnight in the zone; a date-time needs its offset. */
export function periodBound(name: string, value: string | undefined, timeZone: string): string {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  const v = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const day = dayNumberOfIsoDate(v);
    if (Number.isNaN(day)) throw new UsageError(`--${name}: no such date "${value}"`);
    return new Date(zonedInstant(timeZone, day, 0)).toISOString();
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) || Number.isNaN(Date.parse(v))) {
    throw new UsageError(`--${name} must be a date (YYYY-MM-DD) or an ISO date-time with offset, got "${value}"`);
  }
  return new Date(v).toISOString();
}

const REPORT_OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  'group-by': { type: 'string' },
  'include-med': { type: 'boolean' },
  out: { type: 'string' },
} as const;

/** `griddispatch report reliability|response`. */
export async function report(args: string[], io: CliIo): Promise<number> {
  return runCommand(io, REPORT_USAGE, args, REPORT_OPTIONS, async (parsed) => {
    const [kind, ...rest] = parsed.positionals;
    if (kind !== 'reliability' && kind !== 'response') throw new UsageError(kind ? `unknown report "${kind}"` : 'which report: reliability or response');
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const v = parsed.values;
    const config = loadCliConfig(io.env);
    const from = periodBound('from', v.from, config.timeZone);
    const to = periodBound('to', v.to, config.timeZone);
    if (Date.parse(from) >= Date.parse(to)) throw new UsageError(`--from must be before --to (${from} ≥ ${to})`);
    const groupBy = v['group-by'] ?? 'grid';
    const groupings = kind === 'response' ? ['grid', 'category', 'grid_category'] : ['grid', 'feeder'];
    if (!groupings.includes(groupBy)) throw new UsageError(`--group-by must be ${groupings.join(', ')}, got "${groupBy}"`);
    if (kind === 'response' && v['include-med']) throw new UsageError('--include-med is for report reliability');

    const query = new URLSearchParams({ from, to, groupBy });
    if (kind === 'reliability' && v['include-med']) query.set('includeMed', 'true');
    const { text, headers } = await apiGetText(config, `/v1/reports/${kind}?${query}`, 'text/csv', io.signal);
    const medDays = headers.get('x-med-days');
    if (medDays) {
      const excluded = headers.get('x-excluded-med') === 'true';
      io.stderr.write(`major event days: ${cleanText(medDays)} (${excluded ? 'left out; --include-med counts them' : 'counted'})\n`);
    }
    const repeats = headers.get('x-repeat-districts');
    if (repeats) io.stderr.write(`台区 with repeated outages (incidents): ${cleanText(decodeURIComponent(repeats))}\n`);
    if (v.out) {
      await writeFile(v.out, text);
      io.stderr.write(`wrote ${text.split('\r\n').filter((l) => l !== '').length - 1} rows to ${v.out}\n`);
    } else {
      // On a terminal, what the API answers was written by others: no escape sequence gets
      // through (format.ts; CRLF becomes LF there). Piped, the CSV goes out byte for byte.
      io.stdout.write(io.stdout.isTTY ? cleanText(text.replaceAll('\r\n', '\n')) : text);
    }
    return 0;
  });
}
