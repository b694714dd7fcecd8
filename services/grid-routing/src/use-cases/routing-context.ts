import type { Policy } from '@griddispatch/sla';
import type { GridRoutingConfig } from '../config.ts';
import type { RoutingDataCache } from '../routing-data.ts';

/** What every routing and incident use case works with. */
export interface RoutingContext {
  data: RoutingDataCache;
  config: GridRoutingConfig;
  policy: Policy;
  now: () => Date;
}
