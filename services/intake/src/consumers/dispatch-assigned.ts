import { EventTypeName } from '@griddispatch/contracts';
import { recordAssignment } from '../use-cases/update-read-model.ts';
import type { ReadModelHandler } from './consume.ts';

/** `dispatch.assigned` → status, grid, incident, assignees and SLA deadlines of the work order. */
export const onDispatchAssigned: ReadModelHandler<typeof EventTypeName.dispatchAssigned> = (client, event, log, batch) =>
  recordAssignment(client, event, log, batch);
