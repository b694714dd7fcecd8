import { metersOf, type SampleCounty } from '@griddispatch/grid';

// `griddispatch simulate --feeder-trip <feederCode>`: a 10 kV feeder trips and every meter
// behind it sends its last gasp (power_off) — the transformer meter of each 台区 and every
// customer meter — to POST /v1/meter-events in batches of 1,000 (its limit).

export const METER_BATCH = 1_000;

export interface MeterEventItem {
  eventId: string;
  kind: 'power_off' | 'power_on';
  meterId: string;
  districtCode: string;
  accountNo?: string;
  at: string;
}

/** The 台区 the feeder supplies in the county, sorted; empty for an unknown feeder. */
export function districtsOfFeeder(county: Pick<SampleCounty, 'districts'>, feederCode: string): string[] {
  return county.districts
    .filter((d) => d.feederCode === feederCode)
    .map((d) => d.code)
    .sort();
}

/**
 * One power-off per meter behind the feeder, 台区 by 台区 (transformer meter first), stamped `at`
 * plus a few milliseconds each (meters do not gasp in the same instant). Event ids are unique
 * per run (`runId`), so a repeated run is a new trip, a retried POST the same events.
 */
export function feederTripEvents(
  county: Pick<SampleCounty, 'districts' | 'customers'>,
  feederCode: string,
  at: Date,
  runId: string,
  kind: MeterEventItem['kind'] = 'power_off',
): MeterEventItem[] {
  const districts = new Set(districtsOfFeeder(county, feederCode));
  const meters = metersOf({
    districts: county.districts.filter((d) => districts.has(d.code)),
    customers: county.customers.filter((c) => districts.has(c.districtCode)),
  }).sort((a, b) =>
    a.districtCode === b.districtCode ? (a.kind === b.kind ? 0 : a.kind === 'transformer' ? -1 : 1) : a.districtCode < b.districtCode ? -1 : 1,
  );
  return meters.map((m, i) => ({
    eventId: `${runId}-${kind === 'power_off' ? 'off' : 'on'}-${m.meterId}`,
    kind,
    meterId: m.meterId,
    districtCode: m.districtCode,
    ...(m.accountNo ? { accountNo: m.accountNo } : {}),
    at: new Date(at.getTime() + (i % 500)).toISOString(),
  }));
}

/** Consecutive batches of at most `size` items. */
export function inBatches<T>(items: readonly T[], size = METER_BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
