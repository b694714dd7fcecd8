import type { CloudEvent } from '@griddispatch/contracts';
import { inboxConsumer, parseEventOf, type InboxConsumer } from '@griddispatch/db';
import { SCHEMA } from '../schema.ts';
import { enqueueNotices, noticesForIncident } from '../use-cases/tell-customers.ts';
import { noticeRecordsWritten, type CustomerNoticesDeps } from './consume.ts';

export const CONSUMER = 'grid-routing.customers-incidents';

const INCIDENT_TYPES = [
  'cn.griddispatch.incident.opened.v1',
  'cn.griddispatch.incident.updated.v1',
  'cn.griddispatch.incident.restored.v1',
  'cn.griddispatch.incident.closed.v1',
] as const;
type IncidentEvent = CloudEvent<(typeof INCIDENT_TYPES)[number]>;
const parseIncidentEvent = parseEventOf(...INCIDENT_TYPES);

/**
 * grid-routing's own `incident.opened|updated|restored|closed` → customers.notices
 * (docs/architecture.md#telling-the-customers). Inbox rows, the told state and the notice records
 * commit together; a redelivered event changes nothing.
 */
export function incidentEventConsumer(deps: CustomerNoticesDeps): InboxConsumer {
  return inboxConsumer({
    pool: deps.pool,
    schema: SCHEMA,
    consumer: CONSUMER,
    spanName: 'grid-routing tell customers of incidents',
    parse: parseIncidentEvent,
    // A feeder's incidents share 台区: their batches lock them feeder by feeder, in one order.
    orderKey: (event) => lockKey(event),
    async prepare(client, events) {
      for (const key of [...new Set(events.map(lockKey))].sort()) {
        await client.query("SELECT pg_advisory_xact_lock(hashtextextended('routing.customers:' || $1, 0))", [key]);
      }
    },
    async apply(client, event) {
      const now = deps.now();
      return enqueueNotices(client, await noticesForIncident(client, event.data, now), now, event.traceparent);
    },
    applied: (results) => noticeRecordsWritten(deps, results),
  });
}

function lockKey(event: IncidentEvent): string {
  const d = event.data;
  return d.feederCode ? `feeder:${d.feederCode}` : `district:${d.districtCodes[0] ?? d.id}`;
}
