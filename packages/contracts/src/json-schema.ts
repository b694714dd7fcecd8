import { z } from 'zod';
import { EventTypes, type EventType } from './events/index.ts';

/** JSON Schema (draft 2020-12) of each event's `data`, for integrators and the AsyncAPI file. */
export function eventJsonSchemas(): Record<EventType, unknown> {
  const out = {} as Record<EventType, unknown>;
  for (const [type, spec] of Object.entries(EventTypes) as [EventType, (typeof EventTypes)[EventType]][]) {
    out[type] = z.toJSONSchema(spec.data, { io: 'output', unrepresentable: 'any' });
  }
  return out;
}
