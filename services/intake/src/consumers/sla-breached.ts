import { EventTypeName } from '@griddispatch/contracts';
import { recordSlaBreach, type ReadModelHandler } from '../use-cases/update-read-model.ts';

/** `sla.breached` → breach list, `breached` flag and timeline. */
export const onSlaBreached: ReadModelHandler<typeof EventTypeName.slaBreached> = recordSlaBreach;
