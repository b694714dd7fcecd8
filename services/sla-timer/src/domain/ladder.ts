import type { SlaPlan, Stage, StaffRole } from '@griddispatch/contracts';
import type { WorkClock } from './work-clock.ts';

// From a plan to timers. Per stage: a warning (level 0) `warnBefore` ahead of the deadline, the
// breach (level 1) at the deadline, then the policy's escalation steps as levels 2..n, each
// `after` the breach. Steps due at the breach itself (`after: 0s`) are folded into level 1, so
// one breach event names everyone to tell at once.

export type TimerKind = 'warning' | 'breach' | 'escalation';

export interface LadderStep {
  level: number;
  /** Counted from the breach (working time under a calendar). */
  afterMs: number;
  notify: StaffRole[];
}

/** Who hears of a breach when the policy names nobody for the moment of the breach. */
export const DEFAULT_BREACH_ROLES: readonly StaffRole[] = ['manager'];

export function escalationLadder(escalation: SlaPlan['escalation']): LadderStep[] {
  const immediate = new Set<StaffRole>();
  const later: SlaPlan['escalation'] = [];
  for (const step of escalation) {
    if (step.afterMs === 0) for (const role of step.notify) immediate.add(role);
    else later.push(step);
  }
  later.sort((a, b) => a.afterMs - b.afterMs);
  return [
    { level: 1, afterMs: 0, notify: immediate.size > 0 ? [...immediate] : [...DEFAULT_BREACH_ROLES] },
    ...later.map((step, i) => ({ level: i + 2, afterMs: step.afterMs, notify: [...step.notify] })),
  ];
}

export interface TimerSpec {
  stage: Stage;
  kind: TimerKind;
  level: number;
  dueAt: Date;
  deadline: Date;
  notify: StaffRole[];
}

const STAGE_ORDER: readonly Stage[] = ['ack', 'arrive', 'resolve', 'callback'];

/**
 * The first timers of a plan: warning and breach of every stage not yet satisfied. A warning
 * that would fall at or before the opening of the window (`warnBefore` ≥ the window) is left
 * out: the dispatch itself is the notice.
 */
export function initialTimers(plan: SlaPlan, ladder: readonly LadderStep[], openedAt: Date, satisfied: ReadonlySet<string>, clock: WorkClock): TimerSpec[] {
  const out: TimerSpec[] = [];
  const breachRoles = ladder.find((s) => s.level === 1)?.notify ?? [...DEFAULT_BREACH_ROLES];
  for (const stage of STAGE_ORDER) {
    const iso = plan.deadlines[stage];
    if (iso === undefined || satisfied.has(stage)) continue;
    const deadline = new Date(iso);
    if (plan.warnBeforeMs !== null && plan.warnBeforeMs > 0) {
      const warnAt = clock.add(deadline, -plan.warnBeforeMs);
      if (warnAt.getTime() > openedAt.getTime()) out.push({ stage, kind: 'warning', level: 0, dueAt: warnAt, deadline, notify: [] });
    }
    out.push({ stage, kind: 'breach', level: 1, dueAt: deadline, deadline, notify: [...breachRoles] });
  }
  return out;
}

/**
 * The escalation step after `level`. Its due time follows from the current step's scheduled due
 * time by the difference of their `after`s — the same as counting from the deadline, except that
 * time spent suspended (which moved the current step) moves the rest of the ladder too, and a step
 * fired late after downtime does not push the later ones back. Null at the top of the ladder.
 */
export function nextEscalation(
  ladder: readonly LadderStep[],
  level: number,
  currentDueAt: Date,
  clock: WorkClock,
): { level: number; dueAt: Date; notify: StaffRole[] } | null {
  const current = ladder.find((s) => s.level === level);
  const step = ladder.find((s) => s.level === level + 1);
  if (!step) return null;
  const gap = step.afterMs - (current?.afterMs ?? 0);
  return { level: step.level, dueAt: clock.add(currentDueAt, gap), notify: [...step.notify] };
}

/**
 * Stages a work-order event satisfies. A later stage implies the earlier ones: a crew that
 * reports `resolved` without `arrived` has plainly arrived, and must not be told it is late.
 */
export function stagesSatisfiedBy(type: string): Stage[] {
  switch (type) {
    case 'acknowledged':
      return ['ack'];
    case 'arrived':
      return ['ack', 'arrive'];
    case 'resolved':
      return ['ack', 'arrive', 'resolve'];
    case 'closed':
      return ['ack', 'arrive', 'resolve', 'callback'];
    default:
      return [];
  }
}
