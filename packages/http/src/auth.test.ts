import { describe, expect, it } from 'vitest';
import { AuthFailureLimiter } from './auth-failures.ts';
import { hasScope, mayUseSource } from './auth.ts';
import { generateApiKeySecret, hashApiKey, parseApiKeys, secretStrengthProblem } from './keys.ts';
import { StreamTokens } from './stream-tokens.ts';

const S1 = 'Hk3vQ9zLm2xP7wRt5yBn4c'; // 22 base64url characters: 132 bits at most
const HEX = '0123456789abcdef0123456789abcdef';

describe('GD_API_KEYS', () => {
  it('parses name:secret:scope+scope lists with optional sources and a rate', () => {
    expect(parseApiKeys(`sgcc-95598:${S1}:requests:write+requests:read:95598, ops:${HEX}:admin`)).toEqual([
      { name: 'sgcc-95598', secret: S1, scopes: ['requests:write', 'requests:read'], sources: ['95598'] },
      { name: 'ops', secret: HEX, scopes: ['admin'] },
    ]);
    expect(parseApiKeys(`k:${S1}:requests:write:95598+12345:200000/min`)[0]).toMatchObject({ sources: ['95598', '12345'], ratePerMinute: 200_000 });
    expect(parseApiKeys(`k:${S1}:requests:read:600/min`)[0]).toEqual({ name: 'k', secret: S1, scopes: ['requests:read'], ratePerMinute: 600 });
    expect(parseApiKeys(`k:${S1}:metrics:read+pii:read`)[0]!.scopes).toEqual(['metrics:read', 'pii:read']);
  });

  it('parses an optional grid list, alone or beside sources and a rate, in any order', () => {
    expect(parseApiKeys(`city:${S1}:requests:read+subscriptions:write:grids=HH+TC-G01`)[0]).toEqual({
      name: 'city',
      secret: S1,
      scopes: ['requests:read', 'subscriptions:write'],
      grids: ['HH', 'TC-G01'],
    });
    expect(parseApiKeys(`k:${S1}:requests:write:12345:grids=HH:600/min`)[0]).toMatchObject({ sources: ['12345'], grids: ['HH'], ratePerMinute: 600 });
    expect(parseApiKeys(`k:${S1}:requests:read:grids=HH:12345`)[0]).toMatchObject({ sources: ['12345'], grids: ['HH'] });
    expect(() => parseApiKeys(`k:${S1}:requests:read:grids=`)).toThrow(/\(k\): bad grid id ""/);
    expect(() => parseApiKeys(`k:${S1}:requests:read:grids=HH+a b`)).toThrow(/bad grid id "a b"/);
    expect(() => parseApiKeys(`k:${S1}:requests:read:grids=HH:grids=TC`)).toThrow(/two grid lists/);
  });

  it('refuses weak secrets, unknown scopes, bad names and sources, naming the entry and the key', () => {
    expect(() => parseApiKeys(`a:${S1}:requests:fly`)).toThrow(/entry 1 \(a\): unknown scope "requests:fly"/);
    expect(() => parseApiKeys('ok:0123456789abcdef0123456789abcdef:admin,weak:change-me-95598:admin')).toThrow(/entry 2 \(weak\): the secret is too short/);
    expect(() => parseApiKeys(`a:${'ab'.repeat(20)}:admin`)).toThrow(/\(a\).*distinct/);
    expect(() => parseApiKeys('d:dev-secret:admin')).toThrow(/\(d\): the secret is too short/);
    expect(parseApiKeys('d:dev-secret:admin', { allowDevSecret: true })).toHaveLength(1);
    expect(() => parseApiKeys(`bad name:${S1}:admin`)).toThrow(/bad key name/);
    expect(() => parseApiKeys(`a:${S1}:admin:bad source`)).toThrow(/bad source/);
    expect(() => parseApiKeys(`a:${S1}:admin,a:${HEX}:admin`)).toThrow(/listed twice/);
    expect(() => parseApiKeys('nocolons')).toThrow(/entry 1/);
    expect(parseApiKeys(undefined)).toEqual([]);
  });

  it('counts 128 bits as 22 base64url or 32 hexadecimal characters', () => {
    expect(secretStrengthProblem(S1)).toBeNull();
    expect(secretStrengthProblem(S1.slice(1))).toMatch(/too short/);
    expect(secretStrengthProblem(HEX)).toBeNull();
    expect(secretStrengthProblem(HEX.slice(1))).toMatch(/too short/);
    expect(secretStrengthProblem(generateApiKeySecret())).toBeNull();
  });
});

describe('API keys', () => {
  it('hashes with the pepper and generates distinct high-entropy secrets', () => {
    const a = generateApiKeySecret();
    expect(a).toMatch(/^gdk_[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(generateApiKeySecret());
    expect(hashApiKey('pepper-one', 'x')).toHaveLength(64);
    expect(hashApiKey('pepper-one', 'x')).not.toBe(hashApiKey('pepper-two', 'x'));
  });

  it('admin implies every scope; a key without sources may post any', () => {
    const ops = { keyName: 'ops', scopes: new Set(['admin'] as const), sources: null, ratePerMinute: null, grids: null };
    expect(hasScope(ops, 'workorders:write')).toBe(true);
    expect(hasScope({ scopes: new Set(['requests:read'] as const) }, 'requests:write')).toBe(false);
    expect(mayUseSource(ops, '95598')).toBe(true);
    expect(mayUseSource({ ...ops, sources: new Set(['12345']) }, '95598')).toBe(false);
  });
});

describe('failed authentications per address', () => {
  it('allows max failures a window, then says when to retry', () => {
    const limiter = new AuthFailureLimiter(3, 60_000);
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfterSeconds('10.0.0.1', 1_000)).toBe(0);
      limiter.fail('10.0.0.1', 1_000);
    }
    expect(limiter.retryAfterSeconds('10.0.0.1', 2_000)).toBe(59);
    expect(limiter.retryAfterSeconds('10.0.0.2', 2_000)).toBe(0);
    expect(limiter.retryAfterSeconds('10.0.0.1', 61_000)).toBe(0);
  });
});

describe('stream tokens', () => {
  it('verify only their own, unexpired, unaltered tokens', () => {
    const tokens = new StreamTokens('pepper-of-this-install-000000000');
    const { token } = tokens.issue('board', 0);
    expect(tokens.verify(token, 1_000)).toBe('board');
    expect(tokens.verify(token, 601_000)).toBeNull();
    expect(new StreamTokens('another-pepper-000000000000000000').verify(token, 1_000)).toBeNull();
    expect(tokens.verify(`${token}x`, 1_000)).toBeNull();
  });
});

describe('shared rate limiter, one replica', () => {
  it('carries the previous window over the boundary, fading, and says when to retry', async () => {
    const { SharedRateLimiter } = await import('./rate-limit.ts');
    const limiter = new SharedRateLimiter({ pool: undefined as never, logger: undefined as never, windowMs: 60_000 });
    const at = (s: number) => 600_000 * 60 + s * 1000; // a window boundary at s = 0
    for (let i = 0; i < 10; i++) expect(limiter.take('k', 10, at(-5)).ok).toBe(true);
    const refused = limiter.take('k', 10, at(-4));
    expect(refused).toMatchObject({ ok: false, retryAfterSeconds: 4 });
    // Just after the boundary the ten still count almost fully; halfway through, half of them.
    expect(limiter.take('k', 10, at(1)).ok).toBe(false);
    const half = [0, 1, 2, 3, 4, 5].map(() => limiter.take('k', 10, at(30)).ok);
    expect(half.filter(Boolean).length).toBe(5);
  });
});
