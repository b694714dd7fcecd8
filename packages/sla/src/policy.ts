import { z } from 'zod';
import { AreaType, Category, CustomerClass, StaffRole, Urgency } from '@griddispatch/contracts';
import { assertCalendarUsable, parseHoursRange } from './calendar.ts';
import { parseDuration } from './duration.ts';
import { dayNumberOfIsoDate, isValidTimeZone } from './zoned.ts';

// The SLA policy file (docs/architecture.md#sla-policy): ordered rules, the first whose `match` holds wins. Checks that
// span rules (names, calendar references, reachability) run once every field is valid. Two optional
// additions to the format: a calendar's `workdays` (make-up working days on weekends, 调休) and a
// rule's `description` (where the commitment comes from).

const Duration = z.string().superRefine((text, ctx) => {
  try {
    parseDuration(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const HoursRange = z.string().superRefine((text, ctx) => {
  const r = parseHoursRange(text);
  if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
});

const LocalDate = z.string().refine((s) => !Number.isNaN(dayNumberOfIsoDate(s)), {
  error: (issue) => `invalid date ${JSON.stringify(issue.input)}: use YYYY-MM-DD`,
});

export const CalendarSchema = z.strictObject({
  /** ISO weekdays, 1 = Monday … 7 = Sunday (0 also means Sunday). */
  days: z.array(z.number().int().min(0).max(7)).default([1, 2, 3, 4, 5]),
  hours: z.array(HoursRange).min(1, 'a calendar needs at least one hours range, e.g. "08:30-12:00"'),
  holidays: z.array(LocalDate).default([]),
  workdays: z.array(LocalDate).default([]),
});
export type Calendar = z.output<typeof CalendarSchema>;

const nonEmpty = <T extends z.ZodType>(item: T) => z.array(item).min(1, 'give at least one value or leave the key out');

export const MatchSchema = z.strictObject({
  category: nonEmpty(Category).optional(),
  customerClass: nonEmpty(CustomerClass).optional(),
  urgency: nonEmpty(Urgency).optional(),
  areaType: nonEmpty(AreaType).optional(),
  gridId: nonEmpty(z.string().min(1)).optional(),
});
export type Match = z.output<typeof MatchSchema>;

export const WindowsSchema = z
  .strictObject({
    ack: Duration.optional(),
    arrive: Duration.optional(),
    resolve: Duration.optional(),
    callback: Duration.optional(),
  })
  .refine((w) => Object.values(w).some((v) => v !== undefined), 'give at least one window: ack, arrive, resolve or callback');
export type Windows = z.output<typeof WindowsSchema>;

export const EscalationStepSchema = z.strictObject({
  /** Counted from the breach. */
  after: Duration,
  notify: z.array(StaffRole).min(1, 'an escalation step must notify at least one role'),
});

export const RuleSchema = z.strictObject({
  name: z.string().trim().min(1, 'a rule needs a name'),
  description: z.string().optional(),
  match: MatchSchema.default({}),
  windows: WindowsSchema,
  warnBefore: Duration.optional(),
  escalation: z.array(EscalationStepSchema).default([]),
  calendar: z.string().min(1).optional(),
});
export type Rule = z.output<typeof RuleSchema>;

export const PolicySchema = z
  .strictObject({
    timeZone: z
      .string()
      .refine(isValidTimeZone, { error: (issue) => `unknown time zone ${JSON.stringify(issue.input)} (use an IANA name such as Asia/Shanghai)` })
      .default('Asia/Shanghai'),
    calendars: z.record(z.string().min(1), CalendarSchema).default({}),
    rules: z.array(RuleSchema).min(1, 'a policy needs at least one rule'),
  })
  .superRefine((policy, ctx) => {
    for (const [name, calendar] of Object.entries(policy.calendars)) {
      try {
        assertCalendarUsable(calendar);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['calendars', name], message: (err as Error).message });
      }
    }
    const names = new Map<string, number>();
    let catchAll: number | null = null;
    policy.rules.forEach((rule, i) => {
      const first = names.get(rule.name);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicate rule name (also rules[${first}])` });
      else names.set(rule.name, i);
      if (rule.calendar !== undefined && !Object.hasOwn(policy.calendars, rule.calendar)) {
        const known = Object.keys(policy.calendars);
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'calendar'],
          message: `unknown calendar "${rule.calendar}" (${known.length ? `calendars: ${known.join(', ')}` : 'the policy defines no calendars'})`,
        });
      }
      let previous = 0;
      rule.escalation.forEach((step, k) => {
        const after = safeDuration(step.after);
        if (after !== null && after < previous) {
          ctx.addIssue({ code: 'custom', path: ['rules', i, 'escalation', k, 'after'], message: 'escalation steps must be in order of `after`' });
        }
        if (after !== null) previous = after;
      });
      if (catchAll !== null) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i],
          message: `never used: rules[${catchAll}] "${policy.rules[catchAll]!.name}" before it matches everything`,
        });
      } else if (Object.values(rule.match).every((v) => v === undefined)) {
        catchAll = i;
      }
    });
    if (catchAll === null) {
      ctx.addIssue({ code: 'custom', path: ['rules'], message: 'the last rule must match everything (`"match": {}`) so that every request gets a plan' });
    }
  });
export type Policy = z.output<typeof PolicySchema>;
/** The policy file as written (defaults not yet applied). */
export type PolicyInput = z.input<typeof PolicySchema>;

function safeDuration(text: string): number | null {
  try {
    return parseDuration(text);
  } catch {
    return null;
  }
}

export interface PolicyIssue {
  /** Where in the file, e.g. `rules[2] "new-connection".windows.ack`. */
  path: string;
  message: string;
}

export class PolicyError extends Error {
  override name = 'PolicyError';
  constructor(
    readonly issues: PolicyIssue[],
    source?: string,
  ) {
    super(`invalid SLA policy${source ? ` ${source}` : ''}:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
  }
}

function ruleNameAt(input: unknown, index: number): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const rules = (input as { rules?: unknown }).rules;
  if (!Array.isArray(rules)) return undefined;
  const rule: unknown = rules[index];
  if (typeof rule !== 'object' || rule === null) return undefined;
  const name = (rule as { name?: unknown }).name;
  return typeof name === 'string' && name.trim() !== '' ? name : undefined;
}

function formatPath(input: unknown, path: readonly PropertyKey[]): string {
  let out = '';
  path.forEach((key, i) => {
    if (typeof key === 'number') {
      out += `[${key}]`;
      if (i === 1 && path[0] === 'rules') {
        const name = ruleNameAt(input, key);
        if (name !== undefined) out += ` "${name}"`;
      }
    } else {
      out += out === '' ? String(key) : `.${String(key)}`;
    }
  });
  return out;
}

/**
 * Validates a policy (JSON text or an already parsed value) and applies defaults. Throws a
 * PolicyError listing every problem with its place in the file (rule index and name, field).
 * `source` names the file in the message.
 */
export function parsePolicy(input: unknown, source?: string): Policy {
  let value = input;
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    try {
      value = JSON.parse(input.toString());
    } catch (err) {
      throw new PolicyError([{ path: '', message: `not valid JSON: ${(err as Error).message}` }], source);
    }
  }
  const result = PolicySchema.safeParse(value);
  if (!result.success) {
    throw new PolicyError(
      result.error.issues.map((issue) => ({ path: formatPath(value, issue.path), message: issue.message })),
      source,
    );
  }
  return result.data;
}
