import type { Pool } from 'pg';
import { toCsv } from '@griddispatch/grid';
import { DEFAULT_POLICY } from '@griddispatch/sla';
import { loadConfig, type GridRoutingConfig } from '../config.ts';
import { RoutingDataCache } from '../routing-data.ts';
import { importData } from '../use-cases/import-data.ts';
import type { RoutingContext } from '../use-cases/routing-context.ts';
import { fixtureCounty } from './fixture-county.ts';
import { requestEvent, silentLogger, type Harness, type IncidentEvent } from './harness.ts';

// The fixture county with two more 台区 on feeder HH-10kV-01 (four in all: TQ-001, TQ-002,
// TQ-005, TQ-006), so a feeder can reach GD_FEEDER_DISTRICTS = 3. TQ-005 has two customers.

/** An instant given as Asia/Shanghai wall-clock time, `2026-12-14T10:00:00`. */
export const at = (isoLocal: string) => new Date(`${isoLocal}+08:00`).toISOString();
/** A fault call from `districtCode`, received at local time `local`. */
export const fault = (local: string, districtCode: string) => requestEvent({ receivedAt: at(local), location: { districtCode } });

export const FEEDER = 'HH-10kV-01';
/** Customers of every 台区 of HH-10kV-01: TQ-001 1, TQ-002 1, TQ-005 2. */
export const FEEDER_CUSTOMERS = 4;

export async function importFeederDistricts(pool: Pool): Promise<void> {
  const county = fixtureCounty();
  const districts = [
    ...county.districts,
    { code: 'TQ-005', name: '湖滨3号台区', feederCode: FEEDER, gridId: 'HH-G1' },
    { code: 'TQ-006', name: '湖滨4号台区', feederCode: FEEDER, gridId: 'HH-G2' },
  ];
  const customers = [
    ...county.customers,
    { accountNo: '3000000005', districtCode: 'TQ-005', classes: ['resident' as const], name: '钱六', phone: '13800000005' },
    { accountNo: '3000000006', districtCode: 'TQ-005', classes: ['resident' as const], name: '周七', phone: '13800000006' },
  ];
  const report = await importData(pool, { districts: { text: toCsv('districts', districts) }, customers: { text: toCsv('customers', customers) } });
  if (!report.ok) throw new Error(`feeder districts import failed: ${JSON.stringify(report.problems)}`);
}

/** A routing context on the harness's database, for calling the incident use cases directly. */
export function routingContext(pool: Pool, config: Partial<GridRoutingConfig> = {}, now: () => Date = () => new Date()): RoutingContext {
  return { data: new RoutingDataCache(pool, 500, silentLogger()), config: { ...loadConfig({}), ...config }, policy: DEFAULT_POLICY, now };
}

/** Every incident closed, as if crews had restored them: each test starts with none open. */
export async function closeAllIncidents(h: Harness): Promise<void> {
  await h.db.pool.query("UPDATE routing.incidents SET status = 'closed'");
}

export function incidentEventsOf(h: Harness, id: string): IncidentEvent[] {
  return h.incidentEvents.filter((e) => e.data.id === id);
}

export const shortType = (e: IncidentEvent) => e.type.replace('cn.griddispatch.incident.', '').replace('.v1', '');
