import type { Pool } from 'pg';
import type { Logger } from '@griddispatch/observability';
import type { RequestWriter } from './use-cases/create-request.ts';

/** What use cases need; built once in app.ts. */
export interface IntakeContext {
  pool: Pool;
  logger: Logger;
  now: () => Date;
  /** Stores new requests, concurrent ones in one transaction (group commit). */
  requestWriter: RequestWriter;
  /** Told of each request stored (or found to be a retry of one), after its commit (metrics). */
  onAccepted?: (channel: string, duplicate: boolean) => void;
  /** Told of each meter-event batch stored, after its commit (metrics). */
  onMeterEvents?: (accepted: number, duplicates: number) => void;
}

/** The read model's consumer name in `intake.inbox`, and its default consumer group. */
export const READ_MODEL_CONSUMER = 'intake.read-model';
