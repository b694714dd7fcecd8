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
    // Hot loop over every character of a possibly 50 MB file: state lives in locals and an
    // unquoted field is scanned by a tight inner loop.
    const n = text.length;
    let state = this.state;
    let field = this.field;
    let i = 0;
    let start = 0;
    while (i < n) {
      if (state === State.RecordStart) {
        const c = text.charCodeAt(i);
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
        state = State.FieldStart;
      }
      if (state === State.FieldStart) {
        if (text.charCodeAt(i) === QUOTE) {
          state = State.Quoted;
          i++;
          start = i;
          continue;
        }
        state = State.Unquoted;
        start = i;
      }
      if (state === State.Unquoted) {
        let c = 0;
        while (i < n) {
          c = text.charCodeAt(i);
          if (c === COMMA || c === LF || c === CR) break;
          i++;
        }
        if (i === n) break;
        this.fields.push(field + text.slice(start, i));
        field = '';
        if (c === COMMA) {
          state = State.FieldStart;
          i++;
          continue;
        }
        this.endRecord(c);
        state = State.RecordStart;
        i++;
        continue;
      }
      if (state === State.Quoted) {
        const q = text.indexOf('"', i);
        const stop = q === -1 ? n : q;
        for (let k = text.indexOf('\n', i); k !== -1 && k < stop; k = text.indexOf('\n', k + 1)) this.line++;
        if (q === -1) {
          i = n;
          break;
        }
        field += text.slice(start, q);
        state = State.QuoteInQuoted;
        i = q + 1;
        continue;
      }
      // QuoteInQuoted: a quote just closed, or it is the first of a doubled quote.
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        field += '"';
        state = State.Quoted;
        i++;
        start = i;
        continue;
      }
      if (c === COMMA) {
        this.fields.push(field);
        field = '';
        state = State.FieldStart;
        i++;
        continue;
      }
      if (c === LF || c === CR) {
        this.fields.push(field);
        field = '';
        this.endRecord(c);
        state = State.RecordStart;
        i++;
        continue;
      }
      if (c === 32 || c === 9) {
        i++; // blanks between a closing quote and the comma, as some spreadsheets write
        continue;
      }
      this.sink.error(`unexpected character ${JSON.stringify(text[i])} after a closing quote`, this.line);
      state = State.Unquoted;
      start = i;
    }
    if (state === State.Unquoted || state === State.Quoted) field += text.slice(start, n);
    this.state = state;
    this.field = field;
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

  /** Emits the record whose last field was just pushed; `c` is the newline character. */
  private endRecord(c: number): void {
    const fields = this.fields;
    this.fields = [];
    this.sink.record(fields, this.recordLine);
    // A CR only ends the record; the LF of a CRLF then counts the line in RecordStart.
    if (c === LF) this.line++;
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
