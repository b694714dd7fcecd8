import { EventTypeName } from '@griddispatch/contracts';
import { recordSlaWarning } from '../use-cases/update-read-model.ts';
import type { ReadModelHandler } from './consume.ts';

/** `sla.warning` → timeline entry. */
export const onSlaWarning: ReadModelHandler<typeof EventTypeName.slaWarning> = (client, event, log, batch) => recordSlaWarning(client, event, log, batch);
