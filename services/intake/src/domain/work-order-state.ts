import { WorkOrderEventType as WorkOrderEventTypes } from '@griddispatch/contracts';
import type { RequestStatus, WorkOrderEventType } from './types.ts';

// The work-order state machine of docs/architecture.md#domain-words:
//   received → assigned → acknowledged → en_route → arrived → resolved → closed
// `assigned` / `unroutable` come from grid-routing (dispatch.* topics), never from the field app.
// suspended/resumed pause any open work order and return it to where it was; reassigned hands
// it to someone else without changing its status; cancelled ends any open work order.

export interface WorkOrderState {
  status: RequestStatus;
  /** Where a suspended work order returns on `resumed`. */
  resumeStatus: RequestStatus | null;
}

/** States in which work is still ahead: these may be suspended, reassigned or cancelled. */
export const OPEN_STATUSES: readonly RequestStatus[] = ['received', 'assigned', 'unroutable', 'acknowledged', 'en_route', 'arrived'];

const STAGE_FROM: Partial<Record<WorkOrderEventType, { from: RequestStatus; to: RequestStatus }>> = {
  acknowledged: { from: 'assigned', to: 'acknowledged' },
  en_route: { from: 'acknowledged', to: 'en_route' },
  arrived: { from: 'en_route', to: 'arrived' },
  resolved: { from: 'arrived', to: 'resolved' },
  closed: { from: 'resolved', to: 'closed' },
};

/** Workflow order: the contract's enum lists the event types in it. */
const EVENT_ORDER: readonly WorkOrderEventType[] = WorkOrderEventTypes.options;

export type Transition = { ok: true; state: WorkOrderState } | { ok: false; allowed: WorkOrderEventType[] };

function apply(state: WorkOrderState, type: WorkOrderEventType): WorkOrderState | null {
  const open = OPEN_STATUSES.includes(state.status);
  switch (type) {
    case 'suspended':
      return open ? { status: 'suspended', resumeStatus: state.status } : null;
    case 'resumed':
      return state.status === 'suspended' ? { status: state.resumeStatus ?? 'received', resumeStatus: null } : null;
    case 'reassigned':
      return open || state.status === 'suspended' ? state : null;
    case 'cancelled':
      return open || state.status === 'suspended' ? { status: 'cancelled', resumeStatus: null } : null;
    default: {
      const stage = STAGE_FROM[type];
      return stage && state.status === stage.from ? { status: stage.to, resumeStatus: null } : null;
    }
  }
}

/** The event types legal in `state`, in workflow order (for the 409's details). */
export function allowedEvents(state: WorkOrderState): WorkOrderEventType[] {
  return EVENT_ORDER.filter((type) => apply(state, type) !== null);
}

export function transition(state: WorkOrderState, type: WorkOrderEventType): Transition {
  const next = apply(state, type);
  return next ? { ok: true, state: next } : { ok: false, allowed: allowedEvents(state) };
}

/**
 * Routing finished while the work order was already somewhere else (suspended, cancelled):
 * the status the read model should show. Only `received`/`unroutable` move to the new status;
 * a suspended order remembers it for `resumed`.
 */
export function afterRouting(state: WorkOrderState, routed: 'assigned' | 'unroutable'): WorkOrderState {
  if (state.status === 'received' || state.status === 'unroutable') return { status: routed, resumeStatus: null };
  if (state.status === 'suspended' && (state.resumeStatus === 'received' || state.resumeStatus === 'unroutable')) {
    return { status: 'suspended', resumeStatus: routed };
  }
  return state;
}
