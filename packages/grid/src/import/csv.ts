/**
 * A small RFC 4180 CSV reader that is fed text in chunks (so a 50 MB customer file streams) and
 * reports the line on which each record STARTS, which is what a person fixing the file needs.
 * Empty lines are skipped; `""` inside quotes is a quote; CRLF and LF both end a record.
 */
export interface CsvSink {
  record(fields: string[], line: number): void;
  error(message: string, line: number): void;
}

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;

const State = { RecordStart: 0, FieldStart: 1, Unquoted: 2, Quoted: 3, QuoteInQuoted: 4 } as const;
type State = (typeof State)[keyof typeof State];

export class CsvReader {
  private state: State = State.RecordStart;
  private fields: string[] = [];
  private field = '';
  private line = 1;
  private recordLine = 1;
  private first = true;

  constructor(private readonly sink: CsvSink) {}

  push(chunk: string): void {
    let text = chunk;
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const n = text.length;
    let i = 0;
    let start = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      switch (this.state) {
        case State.RecordStart:
          if (c === LF) {
            this.line++;
            i++;
            continue;
          }
          if (c === CR) {
            i++;
            continue;
          }
          this.recordLine = this.line;
          this.state = State.FieldStart;
          continue;
        case State.FieldStart:
          if (c === QUOTE) {
            this.state = State.Quoted;
            i++;
            start = i;
            continue;
          }
          this.state = State.Unquoted;
          start = i;
          continue;
        case State.Unquoted:
          if (c === COMMA) {
            this.field += text.slice(start, i);
            this.endField();
            this.state = State.FieldStart;
            i++;
            continue;
          }
          if (c === LF || c === CR) {
            this.field += text.slice(start, i);
            i = this.endRecord(c, i);
            continue;
          }
          i++;
          continue;
        case State.Quoted:
          if (c === QUOTE) {
            this.field += text.slice(start, i);
            this.state = State.QuoteInQuoted;
            i++;
            continue;
          }
          if (c === LF) this.line++;
          i++;
          continue;
        case State.QuoteInQuoted:
          if (c === QUOTE) {
            this.field += '"';
            this.state = State.Quoted;
            i++;
            start = i;
            continue;
          }
          if (c === COMMA) {
            this.endField();
            this.state = State.FieldStart;
            i++;
            continue;
          }
          if (c === LF || c === CR) {
            i = this.endRecord(c, i);
            continue;
          }
          this.sink.error(`unexpected character ${JSON.stringify(text[i])} after a closing quote`, this.line);
          this.state = State.Unquoted;
          start = i;
          continue;
      }
    }
    if (this.state === State.Unquoted || this.state === State.Quoted) this.field += text.slice(start, n);
  }

  /** Flushes the last record; reports a quote left open. */
  end(): void {
    if (this.state === State.Quoted) {
      this.sink.error('a quoted field is not closed before the end of the file', this.recordLine);
    } else if (this.state !== State.RecordStart) {
      this.endField();
      this.sink.record(this.fields, this.recordLine);
    }
    this.fields = [];
    this.field = '';
    this.state = State.RecordStart;
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = '';
  }

  /** Ends the record at a newline char at index i; returns the next index to read. */
  private endRecord(c: number, i: number): number {
    this.endField();
    const fields = this.fields;
    this.fields = [];
    this.sink.record(fields, this.recordLine);
    this.state = State.RecordStart;
    if (c === LF) this.line++;
    // A CR is skipped here; the LF of a CRLF then counts the line in RecordStart.
    return i + 1;
  }
}

/** Parses a whole CSV text into records with their starting line numbers. */
export function readCsv(text: string): { rows: { fields: string[]; line: number }[]; errors: { message: string; line: number }[] } {
  const rows: { fields: string[]; line: number }[] = [];
  const errors: { message: string; line: number }[] = [];
  const reader = new CsvReader({
    record: (fields, line) => rows.push({ fields, line }),
    error: (message, line) => errors.push({ message, line }),
  });
  reader.push(text);
  reader.end();
  return { rows, errors };
}

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** One CSV line (with the trailing `\n`); null/undefined become empty fields. */
export function csvLine(fields: readonly (string | number | null | undefined)[]): string {
  let out = '';
  for (let i = 0; i < fields.length; i++) {
    const v = fields[i];
    const s = v === null || v === undefined ? '' : String(v);
    if (i > 0) out += ',';
    out += NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  }
  return `${out}\n`;
}
