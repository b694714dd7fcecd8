import type { z } from 'zod';
import type { Assignee, Breach, Customer, Location, RequestStatus, WorkOrderEventType } from '@griddispatch/contracts';

export type { Assignee, Customer, Location, RequestStatus, WorkOrderEventType };
export type Breach = z.infer<typeof Breach>;
