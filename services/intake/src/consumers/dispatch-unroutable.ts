import { EventTypeName } from '@griddispatch/contracts';
import { recordUnroutable } from '../use-cases/update-read-model.ts';
import type { ReadModelHandler } from './consume.ts';

/** `dispatch.unroutable` → status `unroutable` and the reason in the timeline. */
export const onDispatchUnroutable: ReadModelHandler<typeof EventTypeName.dispatchUnroutable> = (client, event, log, batch) =>
  recordUnroutable(client, event, log, batch);
