// CSV as RFC 4180 has it: CRLF line ends, a header row, a field quoted (its quotes doubled) when
// it holds a comma, a quote, CR or LF. A text field a spreadsheet would run as a formula
// (leading = + - @) is given a leading apostrophe: report keys come from imported files.

export type CsvValue = string | number | boolean | null | undefined;

function field(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The header row, then one row per record with the columns in that order. */
export function toCsvText<K extends string>(columns: readonly K[], rows: readonly Record<K, CsvValue>[]): string {
  const lines = [columns.map((c) => field(c)), ...rows.map((r) => columns.map((c) => field(r[c])))];
  return lines.map((l) => `${l.join(',')}\r\n`).join('');
}

/** Whether the client asked for CSV (`Accept: text/csv`, alone or preferred by order). */
export function wantsCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  const types = accept.split(',').map((part) => {
    const [type = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return { type: type.trim(), q: q ? Number(q.slice(2)) : 1 };
  });
  const csv = types.find((t) => t.type === 'text/csv');
  if (!csv || !(csv.q > 0)) return false;
  const json = types.find((t) => t.type === 'application/json');
  return !json || csv.q >= json.q;
}
