import type { PoolClient } from 'pg';
import type { CloudEvent, EventType } from '@griddispatch/contracts';
import type { Logger } from '@griddispatch/observability';
import type { ReadModelBatch } from '../use-cases/update-read-model.ts';

/**
 * Applies one consumed event to the read model, inside the inbox transaction. Resolves to
 * whether what the dispatch board shows of the work order changed.
 */
export type ReadModelHandler<T extends EventType> = (client: PoolClient, event: CloudEvent<T>, log: Logger, batch: ReadModelBatch) => Promise<boolean>;
