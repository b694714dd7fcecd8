import { CsvReader, csvLine } from './csv.ts';
import { CSV_FORMATS, DECODERS, ENCODERS, KEY_COLUMNS, RECORD_KEYS, type CsvKind, type CsvRecordOf, type RowContext } from './formats.ts';
import { ProblemList, type ImportProblemCode, type ParsedFile } from './problems.ts';

export interface CsvParseOptions {
  /** File name used in problem reports; defaults to the standard name (`customers.csv`, …). */
  file?: string;
  /** Problems listed per file before the rest are only counted. Default 1000. */
  maxProblems?: number;
  /** Called every `progressEveryRows` data rows and once at the end. */
  onProgress?: (progress: { rows: number; bytes: number }) => void;
  progressEveryRows?: number;
}

export interface CsvStreamOptions<T> extends CsvParseOptions {
  /**
   * Receives the good records in batches (awaited, so a slow database write holds the stream
   * back). When given, the result's `records`/`lines` stay empty: a million customers need not
   * sit in memory. Problems are still collected for the whole file, so a caller that writes
   * batches into a staging table can still refuse to apply a file with problems.
   */
  onBatch?: (records: T[], lines: number[]) => void | Promise<void>;
  /** Most records per batch. Default 5,000. */
  batchSize?: number;
}

/** The row being decoded; one instance is reused for every row (no closures per row). */
class Row implements RowContext {
  fields: string[] = [];
  line = 0;
  failed = false;

  constructor(
    private readonly columns: Map<string, number>,
    private readonly problems: ProblemList,
  ) {}

  get(column: string): string {
    const i = this.columns.get(column);
    return i === undefined ? '' : (this.fields[i] ?? '').trim();
  }

  fail(code: ImportProblemCode, message: string): void {
    this.failed = true;
    this.problems.add(this.line, code, message);
  }
}

/** Header handling, row decoding, duplicates and progress for one CSV file, fed by a CsvReader. */
class CsvFileParser<K extends CsvKind> {
  readonly file: string;
  readonly problems: ProblemList;
  readonly records: CsvRecordOf<K>[] = [];
  readonly lines: number[] = [];
  private row: Row | null = null;
  private headerBroken = false;
  private headerWidth = 0;
  private readonly seen = new Map<string, number>();
  private rows = 0;
  bytes = 0;
  private readonly every: number;
  readonly reader: CsvReader;
  private readonly decode: (row: RowContext) => CsvRecordOf<K> | null;
  private readonly keyOf: ((r: CsvRecordOf<K>) => string) | null;

  constructor(
    private readonly kind: K,
    private readonly options: CsvParseOptions,
  ) {
    this.file = options.file ?? CSV_FORMATS[kind].file;
    this.problems = new ProblemList(this.file, options.maxProblems);
    this.every = Math.max(1, options.progressEveryRows ?? 50_000);
    this.decode = DECODERS[kind] as (row: RowContext) => CsvRecordOf<K> | null;
    this.keyOf = RECORD_KEYS[kind] as ((r: CsvRecordOf<K>) => string) | null;
    this.reader = new CsvReader({
      record: (fields, line) => this.onRecord(fields, line),
      error: (message, line) => this.problems.add(line, 'syntax', message),
    });
  }

  private onHeader(fields: string[], line: number): void {
    const format = CSV_FORMATS[this.kind];
    const known = new Set<string>(format.header);
    const columns = new Map<string, number>();
    fields.forEach((raw, i) => {
      const name = raw.trim().toLowerCase();
      if (columns.has(name)) this.problems.add(line, 'syntax', `column '${name}' appears twice in the header`);
      else if (!known.has(name)) this.problems.add(line, 'unknown_column', `unknown column '${name}' (expected ${format.header.join(', ')})`);
      columns.set(name, i);
    });
    const missing = format.required.filter((c) => !columns.has(c));
    if (missing.length > 0) {
      this.problems.add(
        line,
        'missing_column',
        `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; the header must name ${format.required.join(', ')}`,
      );
      this.headerBroken = true;
    }
    this.row = new Row(columns, this.problems);
    this.headerWidth = fields.length;
  }

  private onRecord(fields: string[], line: number): void {
    const row = this.row;
    if (row === null) {
      this.onHeader(fields, line);
      return;
    }
    if (this.headerBroken) return;
    this.rows++;
    if (this.rows % this.every === 0) this.options.onProgress?.({ rows: this.rows, bytes: this.bytes });
    if (fields.length > this.headerWidth && fields.slice(this.headerWidth).some((f) => f.trim() !== '')) {
      this.problems.add(line, 'syntax', `row has ${fields.length} fields, the header has ${this.headerWidth}`);
      return;
    }
    row.fields = fields;
    row.line = line;
    row.failed = false;
    const record = this.decode(row);
    if (record === null || row.failed) return;
    const keyOf = this.keyOf;
    if (keyOf) {
      const key = keyOf(record);
      const first = this.seen.get(key);
      if (first !== undefined) {
        this.problems.add(line, 'duplicate', `duplicate ${KEY_COLUMNS[this.kind]} '${key}' (first on line ${first})`);
        return;
      }
      this.seen.set(key, line);
    }
    this.records.push(record);
    this.lines.push(line);
  }

  /** Takes the records read so far (for batch delivery). */
  drain(): { records: CsvRecordOf<K>[]; lines: number[] } {
    const out = { records: this.records.splice(0), lines: this.lines.splice(0) };
    return out;
  }

  get pending(): number {
    return this.records.length;
  }

  finish(): ParsedFile<CsvRecordOf<K>> {
    this.reader.end();
    if (this.row === null) this.problems.add(null, 'missing_column', `the file is empty; expected a header ${CSV_FORMATS[this.kind].header.join(',')}`);
    this.options.onProgress?.({ rows: this.rows, bytes: this.bytes });
    return { file: this.file, records: this.records, lines: this.lines, problems: this.problems.done() };
  }
}

/** Parses one CSV import file held in memory. Never throws on bad content: see `problems`. */
export function parseCsv<K extends CsvKind>(kind: K, text: string, options: CsvParseOptions = {}): ParsedFile<CsvRecordOf<K>> {
  const parser = new CsvFileParser(kind, options);
  parser.bytes = Buffer.byteLength(text);
  parser.reader.push(text);
  return parser.finish();
}

/**
 * Parses a CSV import file from a stream of chunks (e.g. `fs.createReadStream(path)`), with
 * progress callbacks for large customer files. UTF-8 split across chunks is handled.
 */
export async function parseCsvStream<K extends CsvKind>(
  kind: K,
  source: AsyncIterable<string | Uint8Array>,
  options: CsvStreamOptions<CsvRecordOf<K>> = {},
): Promise<ParsedFile<CsvRecordOf<K>>> {
  const parser = new CsvFileParser(kind, options);
  const decoder = new TextDecoder('utf-8');
  const batchSize = Math.max(1, options.batchSize ?? 5_000);
  const onBatch = options.onBatch;
  const deliver = async (all: boolean): Promise<void> => {
    if (!onBatch) return;
    while (parser.pending >= batchSize || (all && parser.pending > 0)) {
      const { records, lines } = parser.drain();
      for (let i = 0; i < records.length; i += batchSize) await onBatch(records.slice(i, i + batchSize), lines.slice(i, i + batchSize));
    }
  };
  for await (const chunk of source) {
    if (typeof chunk === 'string') {
      parser.bytes += Buffer.byteLength(chunk);
      parser.reader.push(chunk);
    } else {
      parser.bytes += chunk.byteLength;
      parser.reader.push(decoder.decode(chunk, { stream: true }));
    }
    await deliver(false);
  }
  const tail = decoder.decode();
  if (tail) parser.reader.push(tail);
  parser.reader.end();
  await deliver(true);
  return parser.finish();
}

export const parseDistrictsCsv = (text: string, options?: CsvParseOptions) => parseCsv('districts', text, options);
export const parseCustomersCsv = (text: string, options?: CsvParseOptions) => parseCsv('customers', text, options);
export const parseStaffCsv = (text: string, options?: CsvParseOptions) => parseCsv('staff', text, options);
export const parseRostersCsv = (text: string, options?: CsvParseOptions) => parseCsv('rosters', text, options);
export const parseCommunitiesCsv = (text: string, options?: CsvParseOptions) => parseCsv('communities', text, options);
export const parseFeedersCsv = (text: string, options?: CsvParseOptions) => parseCsv('feeders', text, options);

/** Writes records in the import format (header line first). */
export function toCsv<K extends CsvKind>(kind: K, records: readonly CsvRecordOf<K>[]): string {
  let out = csvLine(CSV_FORMATS[kind].header);
  const encode = ENCODERS[kind] as (r: CsvRecordOf<K>) => (string | number | null | undefined)[];
  for (const r of records) out += csvLine(encode(r));
  return out;
}

/** The same as `toCsv` in pieces of `rowsPerChunk` rows, for writing large files to a stream. */
export function* csvChunks<K extends CsvKind>(kind: K, records: readonly CsvRecordOf<K>[], rowsPerChunk = 10_000): Generator<string> {
  const encode = ENCODERS[kind] as (r: CsvRecordOf<K>) => (string | number | null | undefined)[];
  let out = csvLine(CSV_FORMATS[kind].header);
  for (let i = 0; i < records.length; i++) {
    out += csvLine(encode(records[i] as CsvRecordOf<K>));
    if ((i + 1) % rowsPerChunk === 0) {
      yield out;
      out = '';
    }
  }
  if (out !== '') yield out;
}
