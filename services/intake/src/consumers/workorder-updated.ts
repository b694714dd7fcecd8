import { EventTypeName } from '@griddispatch/contracts';
import { recordWorkOrderUpdate, type ReadModelHandler } from '../use-cases/update-read-model.ts';

/** `workorder.updated` → timeline; status too when another producer wrote it. */
export const onWorkorderUpdated: ReadModelHandler<typeof EventTypeName.workorderUpdated> = recordWorkOrderUpdate;
