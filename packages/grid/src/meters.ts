import type { CustomerRecord, DistrictRecord } from './types.ts';

// Meters (主动抢修, docs/architecture.md#meters). Every customer account has one customer meter
// and every 台区 one transformer meter (the 台区总表, the bellwether). The import files carry no
// meter column: a station's meter ids are derived from the codes it already imports, so one
// account or 台区 can never point at a meter of another, and the ids are the same in every
// process that knows the county (grid-routing's routing.meters, `griddispatch simulate`, benches).
//
//   customer meter:    `M-<accountNo>`     e.g. M-3007654321
//   transformer meter: `TM-<districtCode>` e.g. TM-HH-TQ-017
//
// Meter events (`POST /v1/meter-events`) name a meter by these ids.

export type MeterKind = 'customer' | 'transformer';

export interface MeterRecord {
  meterId: string;
  /** The account the meter bills; null for a transformer meter. */
  accountNo: string | null;
  districtCode: string;
  kind: MeterKind;
}

export function customerMeterId(accountNo: string): string {
  return `M-${accountNo}`;
}

export function transformerMeterId(districtCode: string): string {
  return `TM-${districtCode}`;
}

/** The meters of the given accounts and 台区: one per account, one transformer meter per 台区. */
export function metersOf(records: { customers?: readonly CustomerRecord[]; districts?: readonly DistrictRecord[] }): MeterRecord[] {
  const meters: MeterRecord[] = [];
  for (const d of records.districts ?? []) meters.push({ meterId: transformerMeterId(d.code), accountNo: null, districtCode: d.code, kind: 'transformer' });
  for (const c of records.customers ?? [])
    meters.push({ meterId: customerMeterId(c.accountNo), accountNo: c.accountNo, districtCode: c.districtCode, kind: 'customer' });
  return meters;
}
