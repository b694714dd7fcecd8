import { describe, expect, it } from 'vitest';
import { HttpError } from './errors.ts';
import { decodeUtf8, findDuplicateKey, parseStrictJson } from './json.ts';

function rejection(text: string): HttpError {
  try {
    parseStrictJson(text);
  } catch (err) {
    return err as HttpError;
  }
  throw new Error(`accepted: ${text}`);
}

describe('strict JSON', () => {
  it('finds duplicate keys at any depth, also when written with escapes', () => {
    expect(findDuplicateKey('{"a":1,"a":2}')).toBe('a');
    expect(findDuplicateKey('{"x":{"b":1,"c":{"b":2},"b":3}}')).toBe('b');
    expect(findDuplicateKey('{"a":1,"\\u0061":2}')).toBe('a');
    expect(findDuplicateKey('[{"a":1},{"a":2}]')).toBeNull();
    expect(findDuplicateKey('{"a":"\\"a\\"","b":["a","a"]}')).toBeNull();
  });

  it('accepts ordinary documents, including Chinese, emoji and RTL text', () => {
    expect(parseStrictJson('{"d":"停电了 😀 مرحبا","n":[1,2,{"k":null}]}')).toEqual({ d: '停电了 😀 مرحبا', n: [1, 2, { k: null }] });
  });

  it('rejects what cannot be stored or is ambiguous, with a 400', () => {
    for (const text of [
      '',
      '   ',
      '{"a":',
      '{"a":1,"a":1}',
      '{"a":"\\ud800"}',
      '{"a":"x\\udc00"}',
      '{"a":"\\u0000"}',
      '{"__proto__":{"x":1}}',
      '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
    ]) {
      const err = rejection(text);
      expect(err).toBeInstanceOf(HttpError);
      expect(err.statusCode).toBe(400);
    }
  });

  it('refuses bytes that are not UTF-8 instead of replacing them', () => {
    expect(decodeUtf8(Buffer.from('{"a":"停电"}'))).toBe('{"a":"停电"}');
    expect(() => decodeUtf8(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]))).toThrow(HttpError);
  });
});
