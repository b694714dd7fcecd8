import type { z } from 'zod';
import { MeterEventsBody } from '@griddispatch/contracts';
import { IDENTIFIER, IDENTIFIER_MESSAGE } from './request-body.ts';

// Intake's view of MeterEventsBody: the contract's schema plus the identifier rule requests
// follow (meter, account and 台区 codes become Kafka keys and log fields downstream).

export const IntakeMeterEventsBody = MeterEventsBody.superRefine((body, ctx) => {
  if (!IDENTIFIER.test(body.source)) ctx.addIssue({ code: 'custom', path: ['source'], message: IDENTIFIER_MESSAGE });
  body.events.forEach((e, i) => {
    for (const field of ['eventId', 'meterId', 'accountNo', 'districtCode'] as const) {
      const value = e[field];
      if (value !== undefined && !IDENTIFIER.test(value)) ctx.addIssue({ code: 'custom', path: ['events', i, field], message: IDENTIFIER_MESSAGE });
    }
  });
});
export type IntakeMeterEventsBody = z.output<typeof IntakeMeterEventsBody>;

/** How far ahead of intake's clock an event may claim to be (meter clocks drift). */
export const METER_EVENT_MAX_AHEAD_MS = 5 * 60_000;
/** How old an event may be: older ones are history, not an outage to act on. */
export const METER_EVENT_MAX_AGE_MS = 7 * 24 * 3_600_000;

/** Indexes of events whose `at` lies outside [now − 7 days, now + 5 min]. */
export function eventsOutOfRange(body: IntakeMeterEventsBody, now: Date): number[] {
  const out: number[] = [];
  body.events.forEach((e, i) => {
    const at = Date.parse(e.at);
    if (at > now.getTime() + METER_EVENT_MAX_AHEAD_MS || at < now.getTime() - METER_EVENT_MAX_AGE_MS) out.push(i);
  });
  return out;
}
