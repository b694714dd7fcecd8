import { EventTypeName } from '@griddispatch/contracts';
import { recordSlaWarning, type ReadModelHandler } from '../use-cases/update-read-model.ts';

/** `sla.warning` → timeline entry. */
export const onSlaWarning: ReadModelHandler<typeof EventTypeName.slaWarning> = recordSlaWarning;
