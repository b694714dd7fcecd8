import type { Urgency } from '@griddispatch/contracts';

const RANK: Record<Urgency, number> = { normal: 0, urgent: 1, critical: 2 };

export function maxUrgency(...levels: Urgency[]): Urgency {
  return levels.reduce<Urgency>((a, b) => (RANK[b] > RANK[a] ? b : a), 'normal');
}

export interface GroupingRules {
  /** A call joins an incident whose latest call is at most this long before it. */
  windowMs: number;
  urgentCalls: number;
  criticalCalls: number;
}

/** Many calls about one outage mean many customers without power: raise the incident's urgency. */
export function urgencyForCalls(calls: number, rules: GroupingRules): Urgency {
  if (calls >= rules.criticalCalls) return 'critical';
  if (calls >= rules.urgentCalls) return 'urgent';
  return 'normal';
}

/** True when a call at `at` still belongs to an incident whose latest call was at `lastCallAt`. */
export function withinWindow(lastCallAt: Date, at: Date, rules: GroupingRules): boolean {
  const gap = at.getTime() - lastCallAt.getTime();
  return gap <= rules.windowMs && gap >= -rules.windowMs;
}
