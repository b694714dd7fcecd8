import { describe, expect, it } from 'vitest';
import { customerMeterId, metersOf, transformerMeterId } from './meters.ts';
import { generateSampleCounty } from './sample/generate.ts';

describe('meters of the sample county', () => {
  it('one meter per account and one transformer meter per 台区, all ids distinct and stable', () => {
    const county = generateSampleCounty({ seed: 1 });
    const meters = metersOf(county);
    expect(meters.filter((m) => m.kind === 'customer')).toHaveLength(county.customers.length);
    expect(meters.filter((m) => m.kind === 'transformer')).toHaveLength(county.districts.length);
    expect(new Set(meters.map((m) => m.meterId)).size).toBe(meters.length);
    const first = county.customers[0]!;
    expect(meters).toContainEqual({
      meterId: customerMeterId(first.accountNo),
      accountNo: first.accountNo,
      districtCode: first.districtCode,
      kind: 'customer',
    });
    expect(transformerMeterId('HH-TQ-017')).toBe('TM-HH-TQ-017');
    expect(metersOf(generateSampleCounty({ seed: 1 }))).toEqual(meters);
  });
});
