import { ErrorBody } from '@griddispatch/contracts';

/** Response schemas for the error statuses a route can answer (for the OpenAPI document). */
export function errorResponses<const C extends number>(...codes: C[]): Record<C, typeof ErrorBody> {
  return Object.fromEntries(codes.map((c) => [c, ErrorBody])) as Record<C, typeof ErrorBody>;
}
