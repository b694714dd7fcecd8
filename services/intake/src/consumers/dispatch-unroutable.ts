import { EventTypeName } from '@griddispatch/contracts';
import { recordUnroutable, type ReadModelHandler } from '../use-cases/update-read-model.ts';

/** `dispatch.unroutable` → status `unroutable` and the reason in the timeline. */
export const onDispatchUnroutable: ReadModelHandler<typeof EventTypeName.dispatchUnroutable> = recordUnroutable;
