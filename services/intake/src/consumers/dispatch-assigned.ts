import { EventTypeName } from '@griddispatch/contracts';
import { recordAssignment, type ReadModelHandler } from '../use-cases/update-read-model.ts';

/** `dispatch.assigned` → status, grid, incident, assignees and SLA deadlines of the work order. */
export const onDispatchAssigned: ReadModelHandler<typeof EventTypeName.dispatchAssigned> = recordAssignment;
