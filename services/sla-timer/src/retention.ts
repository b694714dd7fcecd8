import { inboxRetention, type RetentionConfig, type RetentionRule } from '@griddispatch/db';

/**
 * What the retention sweeper may delete in schema `sla_timer`: a work order whose clocks were
 * stopped (closed or cancelled) `keepFor` ago, together with its timers — all fired or cancelled
 * by then. Active work orders keep every timer: a pending one is still to fire, a fired one is
 * what stops the same deadline from firing again when the plan is scheduled anew. Inbox marks
 * go after `inboxKeepFor`.
 */
export function slaTimerRetention(config: RetentionConfig): RetentionRule[] {
  return [
    {
      table: 'work_orders',
      column: 'updated_at',
      olderThanMs: config.keepFor,
      where: "status = 'stopped'",
      key: 'work_order_id',
      children: [{ table: 'timers', column: 'work_order_id' }],
    },
    inboxRetention(config),
  ];
}
