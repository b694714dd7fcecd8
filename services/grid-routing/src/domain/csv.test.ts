import { describe, expect, it } from 'vitest';
import { toCsvText, wantsCsv } from './csv.ts';

describe('toCsvText', () => {
  it('writes a header and CRLF rows, quoting per RFC 4180', () => {
    const text = toCsvText(['key', 'n', 'note'] as const, [
      { key: 'HH-G1', n: 1.5, note: 'a, "b"' },
      { key: 'x\ny', n: null, note: '=cmd' },
    ]);
    expect(text).toBe('key,n,note\r\nHH-G1,1.5,"a, ""b"""\r\n"x\ny",,\'=cmd\r\n');
  });

  it('leaves negative numbers alone (only text can be a formula)', () => {
    expect(toCsvText(['v'] as const, [{ v: -1 }])).toBe('v\r\n-1\r\n');
  });
});

describe('wantsCsv', () => {
  it('answers CSV when text/csv is asked and not ranked below JSON', () => {
    expect(wantsCsv('text/csv')).toBe(true);
    expect(wantsCsv('text/csv, application/json;q=0.5')).toBe(true);
    expect(wantsCsv('application/json, text/csv;q=0.5')).toBe(false);
    expect(wantsCsv('text/csv;q=0')).toBe(false);
    expect(wantsCsv('*/*')).toBe(false);
    expect(wantsCsv(undefined)).toBe(false);
  });
});
