import { CloudEvent as SdkCloudEvent, Kafka } from 'cloudevents';
import { CLOUDEVENTS_CONTENT_TYPE, EventTypes, parseEvent, type CloudEvent, type EventType } from '@griddispatch/contracts';
import type { RawRecord } from './topics.ts';

// Every record checked as a CloudEvent three ways: the cloudevents SDK's Kafka binding
// (structured mode, from the record's headers and value, then validate()), the SDK's strict
// constructor on the JSON value, and our own contract (type → topic, data schema).

export interface CheckedRecord {
  /** Logical topic (prefix removed). */
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  headers: Record<string, string>;
  event: CloudEvent;
}

/** kafkajs hands header values over as Buffers (or arrays of them); the SDK wants strings. */
export function headerStrings(headers: RawRecord['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

const SOURCE_OF_TOPIC: Record<string, string> = {
  'requests.received': '/griddispatch/intake',
  'workorders.events': '/griddispatch/intake',
  'dispatch.assigned': '/griddispatch/grid-routing',
  'dispatch.unroutable': '/griddispatch/grid-routing',
  'sla.warnings': '/griddispatch/sla-timer',
  'sla.breaches': '/griddispatch/sla-timer',
  'meters.events': '/griddispatch/intake',
  'incidents.events': '/griddispatch/grid-routing',
  'outages.planned': '/griddispatch/grid-routing',
};

/** Parses every record; returns the parsed ones and a readable problem per record that is not a valid CloudEvent of its topic. */
export function checkRecords(records: RawRecord[], prefix: string): { checked: CheckedRecord[]; problems: string[] } {
  const checked: CheckedRecord[] = [];
  const problems: string[] = [];
  for (const record of records) {
    const topic = record.topic.slice(prefix.length);
    const where = `${topic}[${record.partition}]@${record.offset}`;
    try {
      if (!record.value) throw new Error('no value');
      const headers = headerStrings(record.headers);
      const text = record.value.toString('utf8');
      const message = { key: record.key ?? '', value: text, body: text, headers };
      if (!Kafka.isEvent(message)) throw new Error(`the SDK does not see a CloudEvent (content-type ${headers['content-type']})`);
      const fromKafka = Kafka.toEvent(message);
      if (Array.isArray(fromKafka)) throw new Error('a batch, not one event');
      // toEvent builds without validating; the strict constructor validates (throws ValidationError).
      const sdkEvent = new SdkCloudEvent({ ...fromKafka });
      sdkEvent.validate();
      const strict = new SdkCloudEvent(JSON.parse(text) as Record<string, unknown>);
      const event = parseEvent(record.value);
      // ext.<topic> carries masked copies of <topic>'s events (notification publishes them).
      const expectedTopic = `${topic.startsWith('ext.') ? 'ext.' : ''}${EventTypes[event.type as EventType].topic}`;
      const mismatches = [
        headers['content-type'] !== CLOUDEVENTS_CONTENT_TYPE && `content-type ${headers['content-type']}`,
        sdkEvent.specversion !== '1.0' && `specversion ${sdkEvent.specversion}`,
        sdkEvent.id !== event.id && 'SDK id differs',
        strict.type !== event.type && 'SDK type differs',
        strict.datacontenttype !== 'application/json' && `datacontenttype ${strict.datacontenttype}`,
        expectedTopic !== topic && `type ${event.type} belongs on ${expectedTopic}`,
        event.source !== SOURCE_OF_TOPIC[topic.replace(/^ext\./, '')] && `source ${event.source}`,
        headers.traceparent !== event.traceparent && `traceparent header ${headers.traceparent} vs extension ${event.traceparent}`,
        !event.traceparent && 'no traceparent',
      ].filter(Boolean);
      if (mismatches.length > 0) throw new Error(mismatches.join('; '));
      checked.push({ topic, partition: record.partition, offset: Number(record.offset), key: record.key, headers, event });
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
    }
  }
  checked.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition || a.offset - b.offset);
  return { checked, problems };
}

/** The trace id of a W3C traceparent (`00-<trace id>-<span id>-<flags>`). */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent?.split('-')[1];
}
