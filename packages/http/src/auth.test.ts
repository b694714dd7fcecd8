import { describe, expect, it } from 'vitest';
import { generateApiKeySecret, hashApiKey, hasScope, parseApiKeys } from './auth.ts';

describe('GD_API_KEYS', () => {
  it('parses name:secret:scope+scope lists', () => {
    expect(parseApiKeys('sgcc-95598:s3cret-abc:requests:write+requests:read, ops:0123456789:admin')).toEqual([
      { name: 'sgcc-95598', secret: 's3cret-abc', scopes: ['requests:write', 'requests:read'] },
      { name: 'ops', secret: '0123456789', scopes: ['admin'] },
    ]);
  });
});

describe('API keys', () => {
  it('rejects unknown scopes, short secrets and bad names with the entry named', () => {
    expect(() => parseApiKeys('a:longenough:requests:fly')).toThrow(/unknown scope/);
    expect(() => parseApiKeys('a:short:admin')).toThrow(/at least 8/);
    expect(() => parseApiKeys('bad name:longenough:admin')).toThrow(/bad key name/);
    expect(() => parseApiKeys('nocolons')).toThrow(/entry 1/);
    expect(parseApiKeys(undefined)).toEqual([]);
  });

  it('hashes secrets and generates distinct high-entropy ones', () => {
    const a = generateApiKeySecret();
    expect(a).toMatch(/^gdk_[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(generateApiKeySecret());
    expect(hashApiKey('x')).toHaveLength(64);
  });

  it('admin implies every scope', () => {
    expect(hasScope({ keyName: 'ops', scopes: new Set(['admin']) }, 'workorders:write')).toBe(true);
    expect(hasScope({ keyName: 'f', scopes: new Set(['requests:read']) }, 'requests:write')).toBe(false);
  });
});
