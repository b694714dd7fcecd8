import type { z } from 'zod';

export interface AdapterContext {
  /** GD_TIME_ZONE: wall-clock times without offset are read in it. */
  timeZone: string;
}

/**
 * One external system's payload and how it maps to CreateRequestBody. The mapped body is then
 * validated like any POST /v1/requests; `fieldNames` names the caller's field in those errors.
 */
export interface SourceAdapter<S extends z.ZodType> {
  /** Value of `source` on the mapped request; also the route: POST /v1/requests/<source>. */
  source: string;
  title: string;
  schema: S;
  toRequest(payload: z.output<S>, ctx: AdapterContext): unknown;
  /** Our dotted field path → the caller's field name. */
  fieldNames: Record<string, string>;
  example: z.input<S>;
}
