import { describe, expect, it } from 'vitest';
import { afterRouting, allowedEvents, transition, type WorkOrderState } from './work-order-state.ts';
import type { WorkOrderEventType } from './types.ts';

const at = (status: WorkOrderState['status'], resumeStatus: WorkOrderState['resumeStatus'] = null): WorkOrderState => ({ status, resumeStatus });

function run(start: WorkOrderState, types: WorkOrderEventType[]): WorkOrderState {
  return types.reduce((state, type) => {
    const t = transition(state, type);
    if (!t.ok) throw new Error(`${type} illegal in ${state.status}; allowed ${t.allowed.join(',')}`);
    return t.state;
  }, start);
}

describe('work-order state machine', () => {
  it('walks the happy path from assigned to closed', () => {
    expect(run(at('assigned'), ['acknowledged', 'en_route', 'arrived', 'resolved', 'closed']).status).toBe('closed');
  });

  it('refuses to acknowledge before routing assigned someone, naming what is allowed', () => {
    expect(transition(at('received'), 'acknowledged')).toEqual({ ok: false, allowed: ['suspended', 'reassigned', 'cancelled'] });
  });

  it('refuses skipped and repeated stages', () => {
    expect(transition(at('acknowledged'), 'arrived').ok).toBe(false);
    expect(transition(at('arrived'), 'arrived').ok).toBe(false);
    expect(transition(at('assigned'), 'closed').ok).toBe(false);
  });

  it('suspends from any open state and resumes to exactly that state', () => {
    for (const status of ['received', 'assigned', 'unroutable', 'acknowledged', 'en_route', 'arrived'] as const) {
      expect(run(at(status), ['suspended', 'resumed'])).toEqual(at(status));
    }
    expect(transition(at('suspended', 'en_route'), 'suspended').ok).toBe(false);
    expect(transition(at('suspended', 'en_route'), 'arrived').ok).toBe(false);
  });

  it('keeps the status on reassignment and cancels any open or suspended order', () => {
    expect(run(at('en_route'), ['reassigned'])).toEqual(at('en_route'));
    expect(run(at('suspended', 'arrived'), ['cancelled']).status).toBe('cancelled');
  });

  it('treats resolved, closed and cancelled as finished for suspend/cancel', () => {
    expect(allowedEvents(at('resolved'))).toEqual(['closed']);
    expect(allowedEvents(at('closed'))).toEqual([]);
    expect(allowedEvents(at('cancelled'))).toEqual([]);
  });

  it('applies a late routing result without undoing what happened since', () => {
    expect(afterRouting(at('received'), 'assigned')).toEqual(at('assigned'));
    expect(afterRouting(at('unroutable'), 'assigned')).toEqual(at('assigned'));
    expect(afterRouting(at('suspended', 'received'), 'assigned')).toEqual(at('suspended', 'assigned'));
    expect(afterRouting(at('cancelled'), 'assigned')).toEqual(at('cancelled'));
    expect(afterRouting(at('acknowledged'), 'unroutable')).toEqual(at('acknowledged'));
  });
});
