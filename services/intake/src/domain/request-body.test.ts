import { describe, expect, it } from 'vitest';
import { bodyHash, canonicalJson, IntakeRequestBody } from './request-body.ts';

const base = { source: '95598', externalId: 'GD-1', category: 'fault_repair', location: { districtCode: 'TQ-001' } };

describe('request body', () => {
  it('hashes equal requests equally, whatever the key order, padding or offset', () => {
    const a = IntakeRequestBody.parse({ ...base, reportedAt: '2026-11-23T20:00:00+08:00' });
    const b = IntakeRequestBody.parse({
      location: { districtCode: ' TQ-001 ' },
      category: 'fault_repair',
      externalId: 'GD-1',
      source: '95598',
      reportedAt: '2026-11-23T12:00:00Z',
      urgency: 'normal',
    });
    expect(bodyHash(a)).toBe(bodyHash(b));
    expect(bodyHash(a)).not.toBe(bodyHash(IntakeRequestBody.parse({ ...base, description: 'x' })));
  });

  it('writes canonical JSON', () => {
    expect(canonicalJson({ b: 1, a: [{ d: undefined, c: 'x' }] })).toBe('{"a":[{"c":"x"}],"b":1}');
  });

  it('refuses invisible characters in identifiers but keeps RTL and Chinese free text', () => {
    expect(IntakeRequestBody.safeParse({ ...base, externalId: 'GD\u200b-1' }).success).toBe(false);
    expect(IntakeRequestBody.safeParse({ ...base, source: '\u202e86559' }).success).toBe(false);
    expect(IntakeRequestBody.safeParse({ ...base, description: 'مرحبا 停电\n第二行' }).success).toBe(true);
    expect(IntakeRequestBody.safeParse({ ...base, description: 'a\u202eb' }).success).toBe(false);
  });

  it('accepts dialable phone numbers only', () => {
    expect(IntakeRequestBody.safeParse({ ...base, customer: { phone: '+86 138-1234-5678' } }).success).toBe(true);
    expect(IntakeRequestBody.safeParse({ ...base, customer: { phone: "1' OR '1'='1" } }).success).toBe(false);
  });
});
