import { inboxConsumer, parseEventOf, type InboxConsumer } from '@griddispatch/db';
import { SCHEMA } from '../schema.ts';
import { enqueueNotices } from '../use-cases/tell-customers.ts';
import { noticesForPlannedOutage } from '../use-cases/tell-planned-outage.ts';
import { noticeRecordsWritten, type CustomerNoticesDeps } from './consume.ts';

export const CONSUMER = 'grid-routing.customers-planned';

const parsePlannedOutage = parseEventOf('cn.griddispatch.outage.planned.v1');

/**
 * grid-routing's own `outage.planned` (announced, moved, cancelled) → customers.notices
 * (docs/architecture.md#telling-the-customers). Inbox rows, the told state and the notice records
 * commit together; a redelivered event changes nothing.
 */
export function outagePlannedConsumer(deps: CustomerNoticesDeps): InboxConsumer {
  return inboxConsumer({
    pool: deps.pool,
    schema: SCHEMA,
    consumer: CONSUMER,
    spanName: 'grid-routing tell customers of planned outages',
    parse: parsePlannedOutage,
    async apply(client, event) {
      const now = deps.now();
      return enqueueNotices(client, await noticesForPlannedOutage(client, event.data, now), now, event.traceparent);
    },
    applied: (results) => noticeRecordsWritten(deps, results),
  });
}
