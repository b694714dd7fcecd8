import { z } from 'zod';
import { parseDuration } from '@griddispatch/sla';
import { envLoader, envParsed } from '@griddispatch/http';

// sla-timer's environment, parsed once at boot. DATABASE_URL, KAFKA_BROKERS, PORT and
// GD_TOPIC_PREFIX are read by main.ts / the embedded start, not here.

const duration = envParsed(parseDuration);

export const SlaTimerEnv = z
  .object({
    /** Policy file (docs/architecture.md#sla-policy) whose calendars and time zone count working-time windows; unset → built-in. */
    GD_SLA_POLICY: z.string().min(1).optional(),
    /** How often the scheduler looks for due timers it was not told about and loads the next ones. */
    GD_SLA_POLL_INTERVAL: duration.default(2_000),
    /** Timers due within this horizon are kept in memory and fired by an in-process timer. */
    GD_SLA_LOOKAHEAD: duration.default(60_000),
    /** Timers claimed and fired per transaction. */
    GD_SLA_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
    /** A timer fired more than this after it was due (downtime, backlog) is marked `late`. */
    GD_SLA_LATE_AFTER: duration.default(10_000),
  })
  .transform((e) => ({
    slaPolicyPath: e.GD_SLA_POLICY,
    pollIntervalMs: e.GD_SLA_POLL_INTERVAL,
    lookaheadMs: e.GD_SLA_LOOKAHEAD,
    batchSize: e.GD_SLA_BATCH_SIZE,
    lateAfterMs: e.GD_SLA_LATE_AFTER,
  }));

/** The environment as the service reads it: `loadConfig`'s result. */
export type SlaTimerConfig = z.output<typeof SlaTimerEnv>;

export const loadConfig = envLoader(SlaTimerEnv, 'sla-timer');

/** GD_SLA_POLICY's file, or the built-in policy (packages/sla). */
export { loadPolicy } from '@griddispatch/sla';
