import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envFlag, envJson, envParsed, envTimeZone, parseEnv } from './env.ts';

const Env = z.object({
  TZ_NAME: envTimeZone.default('Asia/Shanghai'),
  SIZE: envParsed((text) => {
    if (!/^\d+kb$/.test(text)) throw new Error(`"${text}" is not a size such as 4kb`);
    return Number(text.slice(0, -2)) * 1024;
  }).optional(),
  MAP: envJson(z.record(z.string(), z.number())).default({}),
});

describe('the shared env pieces', () => {
  it('read good values into their parsed form', () => {
    expect(parseEnv(Env, { TZ_NAME: 'Asia/Urumqi', SIZE: '4kb', MAP: '{"a":1}' }, 'test')).toEqual({ TZ_NAME: 'Asia/Urumqi', SIZE: 4096, MAP: { a: 1 } });
    expect(parseEnv(Env, {}, 'test')).toEqual({ TZ_NAME: 'Asia/Shanghai', MAP: {} });
  });

  it("name each bad variable with the parser's own message", () => {
    let message = '';
    try {
      parseEnv(Env, { TZ_NAME: 'Mars/Olympus', SIZE: 'big', MAP: '{"a":"one"}' }, 'test');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('test configuration is invalid');
    expect(message).toContain('TZ_NAME: unknown IANA time zone');
    expect(message).toContain('SIZE: "big" is not a size such as 4kb');
    expect(message).toMatch(/MAP: a: .*number/);
    expect(() => parseEnv(Env, { MAP: '{' }, 'test')).toThrow('MAP: not valid JSON');
  });

  it('read a flag as 1/0 or true/false, and nothing else', () => {
    const Flags = z.object({ ON: envFlag, OFF: envFlag, YES: envFlag, NO: envFlag });
    expect(parseEnv(Flags, { ON: '1', OFF: '0', YES: 'true', NO: 'false' }, 'test')).toEqual({ ON: true, OFF: false, YES: true, NO: false });
    expect(() => parseEnv(z.object({ F: envFlag }), { F: 'yes' }, 'test')).toThrow(/F:/);
  });
});
