import type { z } from 'zod';
import { adapter12345 } from './12345.ts';
import { adapter95598 } from './95598.ts';
import type { SourceAdapter } from './types.ts';

export type { AdapterContext, SourceAdapter } from './types.ts';
export { localToIso } from './local-time.ts';

/** Every source adapter, in one place: adding a source is adding a file and a line here. */
export const SOURCE_ADAPTERS: readonly SourceAdapter<z.ZodType>[] = [adapter95598 as SourceAdapter<z.ZodType>, adapter12345 as SourceAdapter<z.ZodType>];
