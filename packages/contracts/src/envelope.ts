import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { EventTypes, type EventData, type EventType } from './events/index.ts';

export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';

/** CloudEvents 1.0, structured JSON mode (docs/architecture.md#topics-and-events). */
export const CloudEventEnvelope = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  subject: z.string().min(1),
  datacontenttype: z.literal('application/json'),
  data: z.unknown(),
  traceparent: z.string().optional(),
});
export type CloudEventEnvelope = z.infer<typeof CloudEventEnvelope>;

export interface CloudEvent<T extends EventType = EventType> extends CloudEventEnvelope {
  type: T;
  data: EventData<T>;
}

export type Service = 'intake' | 'grid-routing' | 'sla-timer' | 'notification';

export interface BuildEventInput<T extends EventType> {
  type: T;
  source: Service;
  subject: string;
  data: EventData<T>;
  id?: string;
  time?: Date;
  /** The W3C trace context to carry on (absent or undefined: none). */
  traceparent?: string | undefined;
}

export function buildEvent<T extends EventType>(input: BuildEventInput<T>): CloudEvent<T> {
  const data = EventTypes[input.type].data.parse(input.data) as EventData<T>;
  const event: CloudEvent<T> = {
    specversion: '1.0',
    id: input.id ?? randomUUID(),
    source: `/griddispatch/${input.source}`,
    type: input.type,
    time: (input.time ?? new Date()).toISOString(),
    subject: input.subject,
    datacontenttype: 'application/json',
    data,
  };
  if (input.traceparent) event.traceparent = input.traceparent;
  return event;
}

export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
  constructor(
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

// Fatal: bytes that are not UTF-8 would otherwise turn into U+FFFD and the event be applied
// with content nobody sent (JSON on the wire is UTF-8, RFC 8259 §8.1).
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a record value into a typed event; throws InvalidEventError for anything else (→ DLQ). */
export function parseEvent(value: Buffer | string | null): CloudEvent {
  if (value === null) throw new InvalidEventError('empty record value');
  let text: string;
  try {
    text = typeof value === 'string' ? value : UTF8.decode(value);
  } catch {
    throw new InvalidEventError('record value is not UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidEventError(`record value is not JSON: ${(err as Error).message}`);
  }
  const envelope = CloudEventEnvelope.safeParse(json);
  if (!envelope.success) throw new InvalidEventError('not a CloudEvents 1.0 envelope', z.treeifyError(envelope.error));
  const spec = EventTypes[envelope.data.type as EventType];
  if (!spec) throw new InvalidEventError(`unknown event type ${envelope.data.type}`);
  const schema: z.ZodType = spec.data;
  const data = schema.safeParse(envelope.data.data);
  if (!data.success) throw new InvalidEventError(`invalid data for ${envelope.data.type}`, z.treeifyError(data.error));
  return { ...envelope.data, data: data.data } as CloudEvent;
}

/** Narrowing helper for handlers: `if (isEvent(e, 'cn.griddispatch.dispatch.assigned.v1')) e.data.grid`. */
export function isEvent<T extends EventType>(event: CloudEvent, type: T): event is CloudEvent<T> {
  return event.type === type;
}

export function serializeEvent(event: CloudEvent): string {
  return JSON.stringify(event);
}
