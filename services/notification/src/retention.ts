import { inboxRetention, type RetentionConfig, type RetentionRule } from '@griddispatch/db';

/**
 * What the retention sweeper may delete in schema `notification`: deliveries that are finished
 * (delivered, failed, dead — never pending, which the worker still owes) once `keepFor` old,
 * their attempts with them (ON DELETE CASCADE), incidents' "staff were told" marks, used or
 * expired acknowledgement codes, callback asks and received SMS, and inbox
 * marks after `inboxKeepFor`.
 * Subscriptions and work orders' contacts stay: a work order may be open longer than any window.
 */
export function notificationRetention(config: RetentionConfig): RetentionRule[] {
  return [
    { table: 'deliveries', column: 'created_at', olderThanMs: config.keepFor, where: "status <> 'pending'" },
    { table: 'incident_notices', column: 'created_at', olderThanMs: config.keepFor },
    // Replies: codes, asks and received messages outlive any reply that could still come.
    { table: 'ack_codes', column: 'issued_at', olderThanMs: config.keepFor, where: "status <> 'live'" },
    { table: 'callback_asks', column: 'asked_at', olderThanMs: config.keepFor },
    { table: 'inbound_sms', column: 'received_at', olderThanMs: config.keepFor },
    inboxRetention(config),
  ];
}
