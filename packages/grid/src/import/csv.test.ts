import { describe, expect, it } from 'vitest';
import { CsvReader, csvLine, readCsv } from './csv.ts';

describe('CSV reader', () => {
  it('reads quoted fields, escaped quotes, empty fields and both line endings', () => {
    const { rows, errors } = readCsv('a,b,c\r\n1,"x, ""y""",\r\n\n"multi\nline",2,3\n4,,"" \n');
    expect(errors).toEqual([]);
    expect(rows).toEqual([
      { fields: ['a', 'b', 'c'], line: 1 },
      { fields: ['1', 'x, "y"', ''], line: 2 },
      { fields: ['multi\nline', '2', '3'], line: 4 },
      { fields: ['4', '', ''], line: 6 },
    ]);
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const text = '\uFEFFcode,name\nHH-TQ-001,"刘家湾1号台区"\r\nHH-TQ-002,"a ""b"""\nlast,no-newline';
    const whole = readCsv(text).rows;
    for (const size of [1, 2, 3, 7]) {
      const rows: { fields: string[]; line: number }[] = [];
      const reader = new CsvReader({ record: (fields, line) => rows.push({ fields, line }), error: (m) => expect.fail(m) });
      for (let i = 0; i < text.length; i += size) reader.push(text.slice(i, i + size));
      reader.end();
      expect(rows).toEqual(whole);
    }
    expect(whole[0]?.fields[0]).toBe('code'); // BOM stripped
    expect(whole[3]).toEqual({ fields: ['last', 'no-newline'], line: 4 });
  });

  it('reports an unclosed quote at the line where the record starts, and junk after a quote', () => {
    expect(readCsv('a,b\n1,2\n3,"open\n\n').errors).toEqual([{ message: 'a quoted field is not closed before the end of the file', line: 3 }]);
    expect(readCsv('a\n"x"y\n').errors[0]).toMatchObject({ line: 2 });
  });

  it('writes fields that need it in quotes', () => {
    expect(csvLine(['plain', 'a,b', 'say "hi"', null, 3, ' pad'])).toBe('plain,"a,b","say ""hi""",,3," pad"\n');
    expect(readCsv(csvLine(['a,b', 'say "hi"', 'line\nbreak'])).rows[0]?.fields).toEqual(['a,b', 'say "hi"', 'line\nbreak']);
  });
});
