import { z } from 'zod';
import { Breach, Category, IsoDateTime, RequestStatus, Stage, Urgency, WorkOrderPlace } from '@griddispatch/contracts';
import type { RequestRow } from '../schema.ts';
import { incidentLink } from '../use-cases/view-request.ts';

// What the dispatch board shows of one work order: who, where, and how much time is left before
// the next SLA deadline. Pure: built from the read-model row alone.

/** Work orders the board lists: work is still ahead (suspended ones are paused, not done). */
export const BOARD_OPEN_STATUSES = [
  'received',
  'assigned',
  'unroutable',
  'acknowledged',
  'en_route',
  'arrived',
  'suspended',
] as const satisfies readonly RequestStatus[];

export const BoardState = z.enum(['ok', 'warning', 'breached']);
export type BoardState = z.infer<typeof BoardState>;

export const BoardItem = z.object({
  id: z.string(),
  category: Category,
  status: RequestStatus,
  urgency: Urgency,
  receivedAt: IsoDateTime,
  ...WorkOrderPlace,
  policy: z.string().nullable(),
  deadlines: z.partialRecord(Stage, IsoDateTime),
  /** The earliest deadline of a stage not yet done; null when none is set (not routed, or all done). */
  next: z.object({ stage: Stage, deadline: IsoDateTime }).nullable(),
  /** Suspended: the SLA clock stands still, the board shows no countdown. */
  paused: z.boolean(),
  /** `breached` once any deadline was missed; `warning` while a warned stage is not done. */
  state: BoardState,
  breaches: z.array(Breach),
  /** False once resolved, closed or cancelled: the board drops the row. */
  open: z.boolean(),
});
export type BoardItem = z.infer<typeof BoardItem>;

// How far a status has come; a stage is done once the status reached its rank.
const PROGRESS: Record<RequestStatus, number> = {
  received: 0,
  unroutable: 0,
  assigned: 0,
  suspended: 0,
  acknowledged: 1,
  en_route: 1,
  arrived: 2,
  resolved: 3,
  closed: 4,
  cancelled: 4,
};
const DONE_AT: Record<Stage, number> = { ack: 1, arrive: 2, resolve: 3, callback: 4 };

/** Whether `stage` is done for a work order in `status` (a suspended one counts where it stood). */
export function stageDone(stage: Stage, status: RequestStatus, resumeStatus: RequestStatus | null): boolean {
  const effective = status === 'suspended' ? (resumeStatus ?? 'received') : status;
  return PROGRESS[effective] >= DONE_AT[stage];
}

export function nextDeadline(
  deadlines: Partial<Record<Stage, string>>,
  status: RequestStatus,
  resumeStatus: RequestStatus | null,
): { stage: Stage; deadline: string } | null {
  let next: { stage: Stage; deadline: string } | null = null;
  for (const stage of Stage.options) {
    const deadline = deadlines[stage];
    if (!deadline || stageDone(stage, status, resumeStatus)) continue;
    if (!next || Date.parse(deadline) < Date.parse(next.deadline)) next = { stage, deadline };
  }
  return next;
}

export function toBoardItem(row: RequestRow): BoardItem {
  const status = row.status as RequestStatus;
  const resumeStatus = row.resumeStatus as RequestStatus | null;
  const deadlines = (row.sla?.deadlines ?? {}) as Partial<Record<Stage, string>>;
  const warned = row.warnings.some((w) => !stageDone(w.stage, status, resumeStatus));
  return {
    id: row.id,
    category: row.category as Category,
    status,
    urgency: row.urgency as Urgency,
    receivedAt: row.receivedAt.toISOString(),
    grid: row.grid,
    ...incidentLink(row),
    assignees: row.assignees,
    policy: row.sla?.policy ?? row.breaches[0]?.policy ?? null,
    deadlines,
    next: nextDeadline(deadlines, status, resumeStatus),
    paused: status === 'suspended',
    state: row.breached ? 'breached' : warned ? 'warning' : 'ok',
    breaches: row.breaches.map(({ stage, deadline, level }) => ({ stage, deadline, level })),
    open: (BOARD_OPEN_STATUSES as readonly string[]).includes(status),
  };
}
