export { DEFAULT_POLICY } from './default-policy.ts';
export { CalendarError, addWorkingTime, isWorkingDay, parseHoursRange, workingDayMs, workingTimeBetween, type WorkingCalendar } from './calendar.ts';
export { loadPolicy } from './load-policy.ts';
export { DURATION_HINT, DurationError, formatDuration, parseDuration, parseDurationParts, type DurationParts } from './duration.ts';
export { STAGES, durationMs, matchRule, planFor, policyCalendar, ruleMatches, type SlaFacts } from './plan.ts';
export {
  PolicyError,
  PolicySchema,
  parsePolicy,
  type Calendar,
  type Match,
  type Policy,
  type PolicyInput,
  type PolicyIssue,
  type Rule,
  type Windows,
} from './policy.ts';
export { dayNumberOfIsoDate, isValidTimeZone, localParts, localPartsText, zonedInstant, zoneOffsetMs, type LocalPartsText } from './zoned.ts';
