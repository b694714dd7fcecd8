import { EventTypeName } from '@griddispatch/contracts';
import { recordWorkOrderUpdate } from '../use-cases/update-read-model.ts';
import type { ReadModelHandler } from './consume.ts';

/** `workorder.updated` → timeline; status too when another producer wrote it. */
export const onWorkorderUpdated: ReadModelHandler<typeof EventTypeName.workorderUpdated> = (client, event, log, batch) =>
  recordWorkOrderUpdate(client, event, log, batch);
