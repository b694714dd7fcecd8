import { describe, expect, it } from 'vitest';
import { logicalTopic } from './kafka.ts';

describe('topic names on the command line', () => {
  it('takes logical or prefixed names; ext.<topic> only where asked (tail), never for the DLQ commands', () => {
    expect(logicalTopic('griddispatch.sla.breaches', 'griddispatch.')).toBe('sla.breaches');
    expect(logicalTopic('sla.breaches.dlq', 'griddispatch.')).toBe('sla.breaches.dlq');
    expect(logicalTopic('griddispatch.ext.dispatch.assigned', 'griddispatch.', { allowExternal: true })).toBe('ext.dispatch.assigned');
    expect(() => logicalTopic('ext.dispatch.assigned', 'griddispatch.')).toThrow(/unknown topic "ext.dispatch.assigned"/);
    expect(() => logicalTopic('ext.requests.received', 'griddispatch.', { allowExternal: true })).toThrow(/unknown topic/);
  });
});
