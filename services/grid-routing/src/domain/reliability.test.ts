import { describe, expect, it } from 'vitest';
import { indices, medThreshold } from './reliability.ts';

describe('indices', () => {
  it('SAIFI, SAIDI, CAIDI and ASAI from the sums', () => {
    // 10 customers, 4 interrupted for 30 min and 2 for 60 min in a day (1,440 min):
    // SAIFI 6/10 = 0.6, SAIDI (120 + 120)/10 = 24, CAIDI 24/0.6 = 40, ASAI 1 − 24/1440.
    const i = indices(10, 6, 240, 1440);
    expect(i.saifi).toBeCloseTo(0.6, 10);
    expect(i.saidi).toBeCloseTo(24, 10);
    expect(i.caidi).toBeCloseTo(40, 10);
    expect(i.asai).toBeCloseTo(1 - 24 / 1440, 10);
  });

  it('CAIDI is null when nobody was interrupted; no customers, no indices', () => {
    expect(indices(10, 0, 0, 60)).toEqual({ saifi: 0, saidi: 0, caidi: null, asai: 1 });
    expect(indices(0, 0, 0, 60).saifi).toBe(0);
  });
});

describe('medThreshold (2.5β)', () => {
  it('fits ln(daily SAIDI): α mean, β sample deviation, T = e^(α+2.5β); zero days left out', () => {
    // ln values 0, ln 2, ln 4 → α = ln 2, β = ln 2 (deviations −ln2, 0, ln2; (2 ln²2)/2 = ln²2).
    const fit = medThreshold([1, 2, 4, 0]);
    expect(fit.days).toBe(3);
    expect(fit.alpha).toBeCloseTo(Math.LN2, 10);
    expect(fit.beta).toBeCloseTo(Math.LN2, 10);
    expect(fit.tMed).toBeCloseTo(2 ** 3.5, 10);
  });

  it('no threshold with fewer than two days', () => {
    expect(medThreshold([5]).tMed).toBeNull();
    expect(medThreshold([]).days).toBe(0);
  });
});
