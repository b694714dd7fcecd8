import { EventTypeName } from '@griddispatch/contracts';
import { recordSlaBreach } from '../use-cases/update-read-model.ts';
import type { ReadModelHandler } from './consume.ts';

/** `sla.breached` → breach list, `breached` flag and timeline. */
export const onSlaBreached: ReadModelHandler<typeof EventTypeName.slaBreached> = (client, event, log, batch) => recordSlaBreach(client, event, log, batch);
