import { inboxRetention, type RetentionConfig, type RetentionRule } from '@griddispatch/db';

/**
 * What the retention sweeper may delete in schema `routing`: decisions on requests that were
 * assigned (last changed `keepFor` ago — the request copy they hold is personal data), then
 * restored or closed incidents last changed that long ago (at least REPORT_HISTORY_MS) that no decision, no child and no follow-up incident
 * points to any more (an open one is kept whatever its age: calls still join it), and inbox marks
 * after `inboxKeepFor`. Unroutable
 * requests stay until they are re-routed: the fallback desk still works on them.
 */
/** Six years: the five a major-event threshold is computed from, and the year being reported. */
export const REPORT_HISTORY_MS = 6 * 366 * 86_400_000;

export function routingRetention(config: RetentionConfig): RetentionRule[] {
  return [
    { table: 'routed_requests', column: 'updated_at', olderThanMs: config.keepFor, where: "status = 'assigned'" },
    {
      // An incident holds no personal data and is the reports' history: the major event days of a
      // period are found from the five years before it (IEEE 1366), so incidents stay that long.
      table: 'incidents',
      column: 'updated_at',
      olderThanMs: Math.max(config.keepFor, REPORT_HISTORY_MS),
      where:
        "status IN ('restored', 'closed') AND NOT EXISTS (SELECT 1 FROM routing.routed_requests r WHERE r.incident_id = incidents.id)" +
        ' AND NOT EXISTS (SELECT 1 FROM routing.incidents c WHERE c.parent_id = incidents.id OR c.reopened_from = incidents.id)',
    },
    // Meter events are kept as long as decisions: their (source, eventId) marks catch a head-end's
    // resends, and the no-ops explain themselves to an operator meanwhile.
    { table: 'meter_events', column: 'recorded_at', olderThanMs: config.keepFor },
    { table: 'meter_event_noops', column: 'recorded_at', olderThanMs: config.keepFor },
    // A planned outage long over takes no more calls (its 台区 rows go with it).
    { table: 'planned_outages', column: 'ends_at', olderThanMs: config.keepFor },
    // What customers were told of an outage over long ago: nothing can repeat its stages any more.
    { table: 'customer_episodes', column: 'restored_at', olderThanMs: config.keepFor, where: 'restored_at IS NOT NULL' },
    // …and what a planned outage's customers were told, once the outage itself is gone.
    {
      table: 'planned_outage_notices',
      column: 'told_end',
      olderThanMs: config.keepFor,
      where: 'NOT EXISTS (SELECT 1 FROM routing.planned_outages o WHERE o.id = planned_outage_notices.outage_id)',
    },
    inboxRetention(config),
  ];
}
