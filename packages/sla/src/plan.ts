import type { AreaType, Category, SlaPlan, Stage, Urgency } from '@griddispatch/contracts';
import { addWorkingTime, workingDayMs, type WorkingCalendar } from './calendar.ts';
import { parseDurationParts, type DurationParts } from './duration.ts';
import type { Calendar, Policy, Rule } from './policy.ts';

/** What the policy matches on, known when a request is routed. */
export interface SlaFacts {
  category: Category;
  /** Classes from the request and from the customer registry; a rule matches if any is listed. */
  customerClasses: readonly string[];
  urgency: Urgency;
  areaType: AreaType;
  gridId: string;
}

export const STAGES: readonly Stage[] = ['ack', 'arrive', 'resolve', 'callback'];

export function ruleMatches(rule: Rule, facts: SlaFacts): boolean {
  const m = rule.match;
  if (m.category && !m.category.includes(facts.category)) return false;
  if (m.urgency && !m.urgency.includes(facts.urgency)) return false;
  if (m.areaType && !m.areaType.includes(facts.areaType)) return false;
  if (m.gridId && !m.gridId.includes(facts.gridId)) return false;
  if (m.customerClass) {
    const wanted: readonly string[] = m.customerClass;
    if (!facts.customerClasses.some((c) => wanted.includes(c))) return false;
  }
  return true;
}

/** The first rule whose match holds. A parsed policy always ends with a catch-all rule. */
export function matchRule(policy: Policy, facts: SlaFacts): Rule {
  for (const rule of policy.rules) if (ruleMatches(rule, facts)) return rule;
  throw new Error('no SLA rule matched: the policy has no catch-all rule (was it built without parsePolicy?)');
}

/** The named calendar of the policy; null for no name. */
export function policyCalendar(policy: Policy, name: string | null | undefined): Calendar | null {
  if (name === null || name === undefined) return null;
  const calendar = policy.calendars[name];
  if (!calendar) throw new Error(`the SLA policy has no calendar "${name}"`);
  return calendar;
}

const partsCache = new Map<string, DurationParts>();
function parts(text: string): DurationParts {
  let p = partsCache.get(text);
  if (!p) {
    p = parseDurationParts(text);
    if (partsCache.size > 1000) partsCache.clear();
    partsCache.set(text, p);
  }
  return p;
}

/**
 * Milliseconds a policy duration stands for: clock time without a calendar; working time under
 * one, where each day (`1d`) is one working day — the calendar's daily hours.
 */
export function durationMs(text: string, calendar: WorkingCalendar | null): number {
  const { days, ms } = parts(text);
  return days * (calendar ? workingDayMs(calendar) : 86_400_000) + ms;
}

/**
 * The SLA plan for a newly assigned work order: the matching rule's stage deadlines counted from
 * `openedAt` (working time when the rule names a calendar), the warning lead time and the
 * escalation ladder. Under a calendar every duration of the plan is working time.
 */
export function planFor(policy: Policy, facts: SlaFacts, openedAt: Date): SlaPlan {
  const rule = matchRule(policy, facts);
  const calendar = policyCalendar(policy, rule.calendar);
  const deadlines: Partial<Record<Stage, string>> = {};
  for (const stage of STAGES) {
    const window = rule.windows[stage];
    if (window === undefined) continue;
    deadlines[stage] = addWorkingTime(openedAt, durationMs(window, calendar), calendar, policy.timeZone).toISOString();
  }
  return {
    policy: rule.name,
    deadlines,
    warnBeforeMs: rule.warnBefore === undefined ? null : durationMs(rule.warnBefore, calendar),
    escalation: rule.escalation.map((step) => ({ afterMs: durationMs(step.after, calendar), notify: [...step.notify] })),
    calendar: rule.calendar ?? null,
  };
}
