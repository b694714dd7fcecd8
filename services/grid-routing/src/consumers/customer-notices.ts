import { Topics, type CloudEvent } from '@griddispatch/contracts';
import { byTopic, inboxConsumer, parseEventOf, type InboxConsumer, type Pool } from '@griddispatch/db';
import { eventLogger, type Logger } from '@griddispatch/observability';
import { SCHEMA } from '../schema-migrations.ts';
import { enqueueNotices, noticesForIncident } from '../use-cases/tell-customers.ts';
import { noticesForPlannedOutage } from '../use-cases/tell-planned-outage.ts';

export const INCIDENTS_CONSUMER = 'grid-routing.customers-incidents';
export const PLANNED_CONSUMER = 'grid-routing.customers-planned';

const INCIDENT_TYPES = [
  'cn.griddispatch.incident.opened.v1',
  'cn.griddispatch.incident.updated.v1',
  'cn.griddispatch.incident.restored.v1',
  'cn.griddispatch.incident.closed.v1',
] as const;
type IncidentEvent = CloudEvent<(typeof INCIDENT_TYPES)[number]>;
const parseIncidentEvent = parseEventOf(...INCIDENT_TYPES);
const parsePlannedOutage = parseEventOf('cn.griddispatch.outage.planned.v1');

export interface CustomerNoticesDeps {
  pool: Pool;
  logger: Logger;
  now: () => Date;
  /** customers.notices records written (metrics). */
  onRecords?(count: number): void;
}

/**
 * grid-routing's own incidents.events and outages.planned → customers.notices (docs/architecture.md#telling-the-customers),
 * in a consumer group of its own: telling thousands of customers never slows the routing of calls.
 * Inbox rows, the told state and the notice records commit together; a redelivered event changes nothing.
 */
export function customerNoticesConsumer(deps: CustomerNoticesDeps): InboxConsumer {
  const logged = (count: number, event: CloudEvent) => {
    if (count > 0) eventLogger(deps.logger, event).info({ records: count }, 'customers to be told');
    deps.onRecords?.(count);
  };
  const incidents = inboxConsumer({
    pool: deps.pool,
    schema: SCHEMA,
    consumer: INCIDENTS_CONSUMER,
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
    applied: (results) => results.forEach(({ event, result }) => logged(result, event)),
  });
  const planned = inboxConsumer({
    pool: deps.pool,
    schema: SCHEMA,
    consumer: PLANNED_CONSUMER,
    spanName: 'grid-routing tell customers of planned outages',
    parse: parsePlannedOutage,
    async apply(client, event) {
      const now = deps.now();
      return enqueueNotices(client, await noticesForPlannedOutage(client, event.data, now), now, event.traceparent);
    },
    applied: (results) => results.forEach(({ event, result }) => logged(result, event)),
  });
  return byTopic({ [Topics.incidentsEvents]: incidents, [Topics.outagesPlanned]: planned });
}

function lockKey(event: IncidentEvent): string {
  const d = event.data;
  return d.feederCode ? `feeder:${d.feederCode}` : `district:${d.districtCodes[0] ?? d.id}`;
}
