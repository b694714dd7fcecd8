import { z } from 'zod';
import { parseDuration } from '@griddispatch/sla';
import { envLoader, envParsed, envTimeZone } from '@griddispatch/http';

// grid-routing's environment, parsed once at boot (docs/architecture.md#configuration). DATABASE_URL,
// KAFKA_BROKERS, PORT and GD_TOPIC_PREFIX are read by main.ts / the embedded start, not here.

const duration = envParsed(parseDuration);

export const GridRoutingEnv = z
  .object({
    GD_TIME_ZONE: envTimeZone.default('Asia/Shanghai'),
    /** Path of the SLA policy file (docs/architecture.md#sla-policy); unset → packages/sla's DEFAULT_POLICY. */
    GD_SLA_POLICY: z.string().min(1).optional(),
    /** A point just outside every polygon goes to the nearest grid within this distance. */
    GD_NEAREST_METERS: z.coerce.number().min(0).default(500),
    /**
     * Feeder nesting: district incidents opened within this window of each other count together
     * (a fault call joins its 台区's open incident whatever its age: open until restored).
     */
    GD_INCIDENT_WINDOW: duration.default(15 * 60_000),
    /** Calls in one incident at which its urgency is raised to `urgent`. */
    GD_INCIDENT_URGENT_CALLS: z.coerce.number().int().min(2).default(5),
    /** Calls in one incident at which its urgency is raised to `critical`. */
    GD_INCIDENT_CRITICAL_CALLS: z.coerce.number().int().min(2).default(20),
    /** Open district incidents (opened within GD_INCIDENT_WINDOW) on this many 台区 of one feeder nest under a feeder incident. */
    GD_FEEDER_DISTRICTS: z.coerce.number().int().min(2).default(3),
    /** Rule 8: an incident's call count alone is told on incidents.events at most this often (its other changes at once). */
    GD_INCIDENT_COUNTS_INTERVAL: duration.default(5_000),
    /** Storm mode's ETR multiplier when `PUT /v1/storm` names none. */
    GD_STORM_FACTOR: z.coerce.number().min(1).max(10).default(1.5),
    /** Where an unroutable request goes: the supply station's dispatch desk. */
    GD_FALLBACK_DESK: z.string().min(1).default('station-desk'),
    /** Meters (主动抢修): power-off from this many distinct meters of one 台区 within GD_METER_QUORUM_WINDOW opens an incident. */
    GD_METER_QUORUM: z.coerce.number().int().min(1).default(3),
    GD_METER_QUORUM_WINDOW: duration.default(2 * 60_000),
    /** A meter event stamped further than this after the moment it is applied is refused as a clock error (a recorded no-op). */
    GD_METER_FUTURE_TOLERANCE: duration.default(5 * 60_000),
    /** Minimum notice of a planned outage (计划停电) and of a temporary one (临时停电). */
    GD_PLANNED_NOTICE: duration.default(7 * 24 * 3_600_000),
    GD_TEMPORARY_NOTICE: duration.default(24 * 3_600_000),
  })
  .transform((e) => ({
    timeZone: e.GD_TIME_ZONE,
    slaPolicyPath: e.GD_SLA_POLICY,
    nearestWithinMeters: e.GD_NEAREST_METERS,
    incidentWindowMs: e.GD_INCIDENT_WINDOW,
    incidentUrgentCalls: e.GD_INCIDENT_URGENT_CALLS,
    incidentCriticalCalls: e.GD_INCIDENT_CRITICAL_CALLS,
    incidentCountsIntervalMs: e.GD_INCIDENT_COUNTS_INTERVAL,
    fallbackDesk: e.GD_FALLBACK_DESK,
    feederDistricts: e.GD_FEEDER_DISTRICTS,
    stormFactor: e.GD_STORM_FACTOR,
    meterQuorum: e.GD_METER_QUORUM,
    meterQuorumWindowMs: e.GD_METER_QUORUM_WINDOW,
    meterFutureToleranceMs: e.GD_METER_FUTURE_TOLERANCE,
    plannedNoticeMs: e.GD_PLANNED_NOTICE,
    temporaryNoticeMs: e.GD_TEMPORARY_NOTICE,
  }));

/** The environment as the service reads it: `loadConfig`'s result. */
export type GridRoutingConfig = z.output<typeof GridRoutingEnv>;

export const loadConfig = envLoader(GridRoutingEnv, 'grid-routing');

/** GD_SLA_POLICY's file, or the built-in policy (packages/sla). */
export { loadPolicy } from '@griddispatch/sla';
