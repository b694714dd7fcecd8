import { inboxRetention, type RetentionConfig, type RetentionRule } from '@griddispatch/db';

/**
 * What the retention sweeper may delete in schema `intake`: a closed or cancelled work order —
 * its request row, which is also the (source, externalId) idempotency record, and its timeline —
 * once it last changed `keepFor` ago (after that, GET /v1/requests/:id answers 404 and the same
 * source id would be accepted as a new request), with its callback. Open work orders, resolved ones awaiting their
 * callback and suspended ones are never touched. Inbox marks go after `inboxKeepFor`.
 */
export function intakeRetention(config: RetentionConfig): RetentionRule[] {
  return [
    {
      table: 'requests',
      column: 'updated_at',
      olderThanMs: config.keepFor,
      // received_at <= updated_at: the extra bound lets PostgreSQL walk requests_received_idx.
      where: "status IN ('closed', 'cancelled') AND received_at < $1",
      key: 'id',
      children: [
        { table: 'timeline', column: 'request_id' },
        { table: 'callbacks', column: 'request_id' },
      ],
    },
    // Meter events' idempotency records: a retry of one older than this is refused anyway (7 days).
    { table: 'meter_events', column: 'received_at', olderThanMs: Math.max(config.keepFor, 8 * 86_400_000) },
    // intake's copy of incidents: a closed one leaves with its work orders.
    { table: 'incidents', column: 'updated_at', olderThanMs: config.keepFor, where: "status = 'closed'" },
    inboxRetention(config),
  ];
}
