import { z } from 'zod';
import { DEFAULT_TOPIC_PREFIX } from '@griddispatch/contracts';

/** The environment the CLI's database- and bus-facing commands share (docs/architecture.md#configuration). */
export const CliEnv = z.object({
  KAFKA_BROKERS: z.string().optional(),
  DATABASE_URL: z.string().optional(),
  GD_DATA_DIR: z.string().default('./.data'),
  GD_TOPIC_PREFIX: z.string().default(DEFAULT_TOPIC_PREFIX),
  GD_EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  GD_SAMPLE_DATA: z.enum(['0', '1']).default('1'),
});
export type CliEnv = z.infer<typeof CliEnv>;
