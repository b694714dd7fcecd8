import { linkDistricts } from '../import/import-set.ts';
import { SAMPLE_FACTS, type SampleCounty } from './common.ts';
import { buildHouhu } from './houhu.ts';
import { buildTiancheng } from './tiancheng.ts';

export { SAMPLE_FACTS, type SampleCounty } from './common.ts';

export interface SampleCountyOptions {
  /** Default 1. The same seed always gives the same county. */
  seed?: number;
  /**
   * Number of copies of the county (1 … MAX_SCALE): each copy adds the two stations again, moved
   * on the map and with their own codes, so grids, polygons, 台区, feeders and staff grow linearly
   * (32 polygons per copy). Default 1.
   */
  scale?: number;
  /**
   * Multiplies the customer accounts only (default = `scale`), spread over all copies. The
   * benchmark uses `BENCH_SCALE` = { scale: 313, customerScale: 50 }: 10,016 polygons and
   * 1,000,000 customers.
   */
  customerScale?: number;
}

export const MAX_SCALE = 800;

/** The scale of the routing benchmark: 10,016 polygons and 1,000,000 customer accounts. */
export const BENCH_SCALE = { scale: 313, customerScale: 50 } as const;

/** Deterministic sample county per docs/architecture.md#sample-data: the rural 后湖 station and urban 天城镇 of 崇阳 county. */
export function generateSampleCounty(options: SampleCountyOptions = {}): SampleCounty {
  const seed = options.seed ?? 1;
  const scale = options.scale ?? 1;
  const customerScale = options.customerScale ?? scale;
  if (!Number.isInteger(scale) || scale < 1 || scale > MAX_SCALE) throw new RangeError(`scale must be an integer from 1 to ${MAX_SCALE}, got ${scale}`);
  if (!Number.isFinite(customerScale) || customerScale <= 0) throw new RangeError(`customerScale must be a positive number, got ${customerScale}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);

  const county: SampleCounty = { grids: [], districts: [], feeders: [], communities: [], customers: [], staff: [], rosters: [] };
  const totals = {
    houhu: Math.round(SAMPLE_FACTS.houhu.customers * customerScale),
    aquaculture: Math.round(SAMPLE_FACTS.houhu.aquaculture * customerScale),
    tiancheng: Math.round(SAMPLE_FACTS.tiancheng.customers * customerScale),
  };
  // Copy k's share of a total, so that the shares add up exactly.
  const share = (total: number, k: number): number => Math.floor((total * (k + 1)) / scale) - Math.floor((total * k) / scale);
  let accountSeq = 0;
  // Unique 10-digit account numbers that do not look sequential: an affine map modulo 6e9
  // (1,000,003 is coprime with 6e9, so no two sequence numbers collide).
  const nextAccount = (): string => String(3_000_000_000 + ((accountSeq++ * 1_000_003 + 7_654_321) % 6_000_000_000));

  for (let k = 0; k < scale; k++) {
    buildHouhu(county, seed, k, share(totals.houhu, k), share(totals.aquaculture, k), nextAccount);
    buildTiancheng(county, seed, k, share(totals.tiancheng, k), nextAccount);
  }
  linkDistricts(county.grids, county.districts);
  return county;
}
