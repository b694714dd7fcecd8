import { EventTypes, type EventType } from './events/index.ts';
import { eventJsonSchemas } from './json-schema.ts';
import { ALL_TOPICS, DEFAULT_TOPIC_PREFIX, dlqTopic, EXTERNAL_SOURCE_TOPICS, externalTopic } from './topics.ts';

const KEYS: Record<string, string> = {
  'requests.received': 'request id',
  'workorders.events': 'work order id',
  'dispatch.assigned': 'grid id',
  'dispatch.unroutable': 'request id',
  'sla.warnings': 'work order id',
  'sla.breaches': 'work order id',
  'meters.events': '台区 code, else meter id',
  'incidents.events': 'incident id',
  'outages.planned': 'planned outage id',
  'customers.notices': 'incident id or planned outage id',
  'callbacks.events': 'request id',
  'replies.received': 'work order id (acknowledge) or request id (callback)',
};

/** What `subject` names on the outage topics' events; every other topic's is the work order id. */
const SUBJECTS: Record<string, string> = {
  'meters.events': 'The meter event (not a work order).',
  'incidents.events': 'Incident id.',
  'outages.planned': 'Planned outage id.',
  'customers.notices': "Incident id or planned outage id (internal topic: carries customers' phone numbers).",
  'callbacks.events': 'Request id (the caller asked).',
  'replies.received': 'Work order id (acknowledge) or request id (callback).',
};

function channelId(topic: string): string {
  return topic.replace(/\./g, '-');
}

function messageId(type: EventType): string {
  return EventTypes[type].short.replace(/\./g, '-');
}

/**
 * The AsyncAPI 3.0 document of every topic, generated from the zod schemas so the two cannot
 * drift. `asyncapi.json` at the package root is this output (a test keeps them equal).
 */
export function asyncApiDocument(): Record<string, unknown> {
  const schemas = eventJsonSchemas();
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};

  for (const [type, spec] of Object.entries(EventTypes) as [EventType, (typeof EventTypes)[EventType]][]) {
    const { $schema: _ignored, ...payloadData } = schemas[type] as Record<string, unknown>;
    messages[messageId(type)] = {
      name: type,
      title: spec.short,
      contentType: 'application/cloudevents+json',
      payload: {
        type: 'object',
        required: ['specversion', 'id', 'source', 'type', 'time', 'subject', 'datacontenttype', 'data'],
        properties: {
          specversion: { const: '1.0' },
          id: { type: 'string', description: 'Unique; consumers dedupe on it.' },
          source: { type: 'string', examples: ['/griddispatch/intake'] },
          type: { const: type },
          time: { type: 'string', format: 'date-time' },
          subject: { type: 'string', description: SUBJECTS[spec.topic] ?? 'Work order id.' },
          datacontenttype: { const: 'application/json' },
          traceparent: { type: 'string', description: 'W3C trace context.' },
          data: payloadData,
        },
      },
    };
  }

  for (const topic of ALL_TOPICS) {
    const types = (Object.keys(EventTypes) as EventType[]).filter((t) => EventTypes[t].topic === topic);
    const id = channelId(topic);
    channels[id] = {
      address: `${DEFAULT_TOPIC_PREFIX}${topic}`,
      description: `Kafka key: ${KEYS[topic]}. Poison records go to ${DEFAULT_TOPIC_PREFIX}${dlqTopic(topic)}.`,
      messages: Object.fromEntries(types.map((t) => [messageId(t), { $ref: `#/components/messages/${messageId(t)}` }])),
    };
    operations[`consume-${id}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${id}` },
      messages: types.map((t) => ({ $ref: `#/channels/${id}/messages/${messageId(t)}` })),
    };
  }

  // The masked copies for consumers outside the company: the same messages, other addresses.
  for (const topic of EXTERNAL_SOURCE_TOPICS) {
    const types = (Object.keys(EventTypes) as EventType[]).filter((t) => EventTypes[t].topic === topic);
    const ext = externalTopic(topic);
    const id = channelId(ext);
    channels[id] = {
      address: `${DEFAULT_TOPIC_PREFIX}${ext}`,
      description:
        `Kafka key: ${KEYS[topic]}. The events of ${DEFAULT_TOPIC_PREFIX}${topic}, each once, for consumers outside the company (ACLs on ext.* only): ` +
        'personal data masked as for a webhook without pii:read — phone numbers 138****5678, person names reduced to the first character, ' +
        'account numbers replaced by acct_<HMAC>, addresses and WeCom ids dropped, coordinates rounded to 0.01°, digit runs in free text masked. Published by notification.',
      messages: Object.fromEntries(types.map((t) => [messageId(t), { $ref: `#/components/messages/${messageId(t)}` }])),
    };
    operations[`consume-${id}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${id}` },
      messages: types.map((t) => ({ $ref: `#/channels/${id}/messages/${messageId(t)}` })),
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'grid-dispatch events',
      version: '1.0.0',
      description:
        'Topics of grid-dispatch. Every record value is a CloudEvents 1.0 event in structured JSON mode. ' +
        'Topic names carry the prefix GD_TOPIC_PREFIX (default griddispatch.). The internal topics carry personal data; ' +
        'consumers outside the company read the masked ext.* copies only.',
    },
    defaultContentType: 'application/cloudevents+json',
    servers: { local: { host: '127.0.0.1:9092', protocol: 'kafka' } },
    channels,
    operations,
    components: { messages },
  };
}
