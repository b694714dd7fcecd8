import { inboxRetention, type RetentionConfig, type RetentionRule } from '@griddispatch/db';

/**
 * What the retention sweeper may delete in schema `routing`: decisions on requests that were
 * assigned (last changed `keepFor` ago — the request copy they hold is personal data), then
 * incidents no decision points to any more whose last call is that old (a new call joins an
 * incident only within GD_INCIDENT_WINDOW), and inbox marks after `inboxKeepFor`. Unroutable
 * requests stay until they are re-routed: the fallback desk still works on them.
 */
export function routingRetention(config: RetentionConfig): RetentionRule[] {
  return [
    { table: 'routed_requests', column: 'updated_at', olderThanMs: config.keepFor, where: "status = 'assigned'" },
    {
      table: 'incidents',
      column: 'last_call_at',
      olderThanMs: config.keepFor,
      where: 'NOT EXISTS (SELECT 1 FROM routing.routed_requests r WHERE r.incident_id = incidents.id)',
    },
    inboxRetention(config),
  ];
}
