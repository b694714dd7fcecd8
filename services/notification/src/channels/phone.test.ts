import { describe, expect, it } from 'vitest';
import { normalizeCnMobile } from './phone.ts';

describe('normalizeCnMobile', () => {
  it.each([
    ['13800138000', '+8613800138000'],
    ['+8613800138000', '+8613800138000'],
    ['8613800138000', '+8613800138000'],
    ['008613800138000', '+8613800138000'],
    ['138-0013-8000', '+8613800138000'],
    ['+86 138 0013 8000', '+8613800138000'],
    ['(+86) 199 0000 1111', '+8619900001111'],
  ])('%s → %s', (raw, e164) => {
    expect(normalizeCnMobile(raw)).toBe(e164);
  });

  it.each(['12800138000', '1380013800', '138001380001', '027-87654321', '+1 415 555 0100', '', 'abc'])('rejects %s', (raw) => {
    expect(normalizeCnMobile(raw)).toBeNull();
  });
});
