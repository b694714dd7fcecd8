import type { PoolClient } from 'pg';
import type { Policy } from '@griddispatch/sla';
import type { GridRoutingConfig } from '../config.ts';
import type { RoutingDataCache } from '../routing-data.ts';

/** What every routing and incident use case works with. */
export interface RoutingContext {
  data: RoutingDataCache;
  config: GridRoutingConfig;
  policy: Policy;
  now: () => Date;
  /**
   * Planned outages of these 台区 (not cancelled) with `start <= to` and `end + 15 min >= from`
   * (the planned-outages use case fills it; none without). Asked once per batch, for the 台区 of
   * fault calls that have no open incident: a call inside a window joins (or lazily opens) the
   * outage's incident, `origin: planned`, as `merged`.
   */
  plannedOutages?: PlannedOutageLookup;
}

export interface PlannedWindow {
  id: string;
  districtCode: string;
  start: Date;
  end: Date;
}

export type PlannedOutageLookup = (client: PoolClient, districtCodes: string[], from: Date, to: Date) => Promise<PlannedWindow[]>;
