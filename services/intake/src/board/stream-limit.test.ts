import { describe, expect, it } from 'vitest';
import { StreamLimit } from './stream-limit.ts';

describe('StreamLimit', () => {
  it('lets a key hold at most its streams, counts keys apart, and frees a place on release (once)', () => {
    const limit = new StreamLimit(2);
    const a1 = limit.acquire('a');
    const a2 = limit.acquire('a');
    expect(a1).not.toBeNull();
    expect(a2).not.toBeNull();
    expect(limit.acquire('a')).toBeNull();
    expect(limit.acquire('b')).not.toBeNull();
    a1!();
    a1!();
    expect(limit.acquire('a')).not.toBeNull();
    expect(limit.acquire('a')).toBeNull();
  });
});
