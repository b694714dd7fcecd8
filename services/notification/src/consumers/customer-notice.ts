import type { CloudEvent } from '@griddispatch/contracts';
import { inboxConsumer, parseEventOf, type InboxConsumer } from '@griddispatch/db';
import { eventLogger } from '@griddispatch/observability';
import { SCHEMA } from '../schema.ts';
import { recordCustomerNotice, type RecordedNotice, type RenderCustomer } from '../use-cases/record-customer-notices.ts';
import type { ConsumerDeps } from './consume.ts';

export const CONSUMER = 'notification.customers-notices';

type NoticeEvent = CloudEvent<'cn.griddispatch.customer.notice.v1'>;

/**
 * customers.notices (grid-routing: the affected accounts of one stage, ≤ 500 a record) → one
 * pending SMS per account in the customer lane, in one transaction per batch with the inbox
 * rows. Logs carry the subject, stage and counts, never a phone number.
 */
export function customerNoticeConsumer(
  deps: ConsumerDeps & { renderCustomer: RenderCustomer; onRecorded?(event: NoticeEvent, result: RecordedNotice): void },
): InboxConsumer {
  const parse = parseEventOf('cn.griddispatch.customer.notice.v1');
  return inboxConsumer({
    pool: deps.pool,
    schema: SCHEMA,
    consumer: CONSUMER,
    spanName: 'notification customer notices',
    parse,
    apply: (client, event) => recordCustomerNotice(client, event, deps.renderCustomer, deps.now()),
    applied(results) {
      if (results.some(({ result }) => result.inserted > 0)) deps.wake();
      for (const { event, result } of results) {
        deps.onRecorded?.(event, result);
        const d = event.data;
        eventLogger(deps.logger, event).info(
          {
            subjectId: d.subjectId,
            kind: d.kind,
            stage: d.stage,
            part: `${d.part}/${d.parts}`,
            recipients: d.recipients.length,
            queued: result.inserted,
            dropped: result.dropped,
          },
          'customer messages queued',
        );
      }
    },
  });
}
