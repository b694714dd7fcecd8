// Topic names live here and nowhere else. Renaming one is a breaking change for operators and
// integrators tailing the topics: add the new name, migrate consumers, then retire the old one.
export const Topics = {
  requestsReceived: 'requests.received',
  workordersEvents: 'workorders.events',
  dispatchAssigned: 'dispatch.assigned',
  dispatchUnroutable: 'dispatch.unroutable',
  slaWarnings: 'sla.warnings',
  slaBreaches: 'sla.breaches',
  metersEvents: 'meters.events',
  incidentsEvents: 'incidents.events',
  outagesPlanned: 'outages.planned',
} as const;

export type Topic = (typeof Topics)[keyof typeof Topics];

export const ALL_TOPICS: readonly Topic[] = Object.values(Topics);

/**
 * The topics whose events integrators may read, and the masked copies notification publishes of
 * them for Kafka consumers outside the company: `ext.<topic>`, the same events with personal data
 * masked as for a webhook without pii:read. Outside consumers get ACLs on `ext.*` only; the
 * internal topics carry personal data. (No DLQ: nothing of ours consumes them.)
 */
export const EXTERNAL_SOURCE_TOPICS = [
  Topics.dispatchAssigned,
  Topics.dispatchUnroutable,
  Topics.workordersEvents,
  Topics.slaWarnings,
  Topics.slaBreaches,
  Topics.incidentsEvents,
] as const satisfies readonly Topic[];

export type ExternalTopic = `ext.${(typeof EXTERNAL_SOURCE_TOPICS)[number]}`;

export function externalTopic(topic: (typeof EXTERNAL_SOURCE_TOPICS)[number]): ExternalTopic {
  return `ext.${topic}`;
}

export const EXTERNAL_TOPICS: readonly ExternalTopic[] = EXTERNAL_SOURCE_TOPICS.map(externalTopic);

export const DEFAULT_TOPIC_PREFIX = 'griddispatch.';

export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}
