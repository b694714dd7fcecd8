import { z } from 'zod';
import { envLoader, envTimeZone } from '@griddispatch/http';

// intake's environment, parsed once at boot (docs/architecture.md#configuration). DATABASE_URL,
// KAFKA_BROKERS, PORT, GD_API_KEYS and GD_TOPIC_PREFIX are read by main.ts / the embedded start.

/** Relative to /board, so the page also works behind a path prefix. */
export const DEFAULT_GRIDS_URL = 'v1/grids';

export const IntakeEnv = z
  .object({
    /** Wall-clock times from 95598 / 12345 (no offset) are read in this zone. */
    GD_TIME_ZONE: envTimeZone.default('Asia/Shanghai'),
    /** Consumer group of the read model (replicas share it). */
    GD_INTAKE_GROUP: z.string().min(1).default('intake.read-model'),
    /**
     * Where the board's page fetches grid outlines (grid-routing's `GET /v1/grids`). Default: the
     * page's own origin (embedded mode, or one ingress in front of all services). A different
     * origin must allow the page's origin (CORS) and is added to the page's connect-src.
     */
    GD_GRIDS_URL: z
      .string()
      .refine((v) => /^https?:\/\/[^/]/.test(v) || /^\.{0,2}\/?[\w./-]*$/.test(v), 'an http(s) URL or a path')
      .default(DEFAULT_GRIDS_URL),
    /** Event streams (`/v1/events/stream`) one API key may hold open on one replica. */
    GD_STREAMS_PER_KEY: z.coerce.number().int().min(1).max(10_000).default(10),
  })
  .transform((e) => ({ timeZone: e.GD_TIME_ZONE, groupId: e.GD_INTAKE_GROUP, gridsUrl: e.GD_GRIDS_URL, streamsPerKey: e.GD_STREAMS_PER_KEY }));

/** The environment as the service reads it: `loadConfig`'s result. */
export type IntakeConfig = z.output<typeof IntakeEnv>;

export const loadConfig = envLoader(IntakeEnv, 'intake');
