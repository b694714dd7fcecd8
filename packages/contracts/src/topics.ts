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
  callbacksEvents: 'callbacks.events',
  repliesReceived: 'replies.received',
} as const;

export type Topic = (typeof Topics)[keyof typeof Topics];

export const ALL_TOPICS: readonly Topic[] = Object.values(Topics);

export const DEFAULT_TOPIC_PREFIX = 'griddispatch.';

export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}
