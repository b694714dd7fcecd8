import type { CloudEvent } from '@griddispatch/contracts';
import type { Pool } from '@griddispatch/db';
import { eventLogger, type Logger } from '@griddispatch/observability';

/**
 * What grid-routing's handlers share: the two that tell customers (incident-event.ts,
 * outage-planned.ts) read grid-routing's own incidents.events and outages.planned in one consumer
 * group of its own (app.ts): telling thousands of customers never slows the routing of calls.
 */
export interface CustomerNoticesDeps {
  pool: Pool;
  logger: Logger;
  now: () => Date;
  /** customers.notices records written (metrics). */
  onRecords?(count: number): void;
}

/** The `applied` of a customer-notice handler: each event's customers.notices records, logged and counted. */
export function noticeRecordsWritten(deps: CustomerNoticesDeps, results: { event: CloudEvent; result: number }[]): void {
  for (const { event, result: count } of results) {
    if (count > 0) eventLogger(deps.logger, event).info({ records: count }, 'customers to be told');
    deps.onRecords?.(count);
  }
}
