import type { z } from 'zod';
import type { Assignee, Breach, Customer, Location, RequestStatus, Stage, WorkOrderEventType } from '@griddispatch/contracts';

export type { Assignee, Customer, Location, RequestStatus, Stage, WorkOrderEventType };
export type Breach = z.infer<typeof Breach>;
