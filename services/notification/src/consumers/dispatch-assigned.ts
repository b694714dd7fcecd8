import type { InboxConsumer } from '@griddispatch/db';
import { EventTypeName, type CloudEvent } from '@griddispatch/contracts';
import { assigneeContacts, phonesOf, robotFor, smsDrafts, webhookDrafts, wecomDrafts } from '../use-cases/draft-deliveries.ts';
import { AckCodeBatch } from '../replies/ack-codes.ts';
import { findSubscribersOfEach } from '../use-cases/find-subscribers.ts';
import { BatchNotices, DISPATCH_NOTICE } from '../use-cases/incident-notices.ts';
import type { DeliveryDraft } from '../use-cases/record-deliveries.ts';
import { rememberGrids, type GridDispatch } from '../use-cases/remember-grid.ts';
import { rememberWorkOrders, type WorkOrderDispatch } from '../use-cases/remember-work-order.ts';
import { batchNotificationConsumer, type BatchPlanner, type ConsumerDeps } from './consume.ts';

export const CONSUMER = 'notification.dispatch-assigned';

type DispatchAssigned = typeof EventTypeName.dispatchAssigned;

/** What a batch of dispatches shares (read before the first is planned) and what it writes at its end. */
interface Shared {
  /** Subscribers to `dispatch.assigned` per grid and area grid. */
  subscribers: Map<string, string[]>;
  /** The dispatch notices of the batch's incidents, claimed before its first event. */
  notices: BatchNotices;
  workOrders: WorkOrderDispatch[];
  grids: GridDispatch[];
  codes: AckCodeBatch;
}

const gridsOf = (e: CloudEvent<DispatchAssigned>): [string, string | null | undefined] => [e.data.grid.id, e.data.grid.areaId];
const gridKey = ([grid, area]: readonly (string | null | undefined)[]): string => `${grid ?? ''}\u0000${area ?? ''}`;

/**
 * dispatch.assigned → the assignees get an SMS (with their code to acknowledge by reply), the grid's WeCom group a markdown card, and
 * integrators subscribed to `dispatch.assigned` (for this grid or its area) the CloudEvent. The
 * grid's people are kept for the work order's later warnings and escalations. Staff hear of an
 * incident once (incident-notices.ts): a merged call (`role: 'merged'`) reaches integrators only,
 * and so does a primary whose incident's notice was already given (a feeder incident's opening).
 *
 * Batch-first (issue 12): the subscribers of the batch's grids are read, and the dispatch notices
 * of its incidents claimed, in one statement each before the first event; the work-order and grid
 * copies, the acknowledgement codes (ack-codes.ts) and the deliveries are written at the batch's
 * end. No event of this consumer reads what another one writes, so the order of the writes within
 * the transaction changes nothing but the number of statements; the rows are still written in the
 * batch's order (orderKey), the order the other consumers lock them in.
 */
const planner: BatchPlanner<DispatchAssigned, Shared> = {
  async prepare(deps, client, events) {
    const sets = new Map<string, [string, string | null | undefined]>();
    for (const e of events) sets.set(gridKey(gridsOf(e)), gridsOf(e));
    const found = await findSubscribersOfEach(client, 'dispatch.assigned', [...sets.values()]);
    const subscribers = new Map([...sets.keys()].map((key, i) => [key, found[i] ?? []]));
    // Only a call that is not merged asks for its incident's notice (a merged one tells no staff).
    const asking = events.flatMap((e) => (e.data.role !== 'merged' && e.data.incidentId ? [{ incidentId: e.data.incidentId, notice: DISPATCH_NOTICE }] : []));
    const notices = await BatchNotices.claim(client, asking, deps.now());
    return { subscribers, notices, workOrders: [], grids: [], codes: new AckCodeBatch(deps.replies, deps.config.replies.ackCodeTtlMs) };
  },

  async plan(deps, { event, raw }, shared) {
    const d = event.data;
    const now = deps.now();
    const robot = robotFor(deps.config, d.grid.id, d.grid.areaId);
    shared.workOrders.push({ data: d, robotUrl: robot, eventId: event.id, now });
    // The grid's people, for its incidents' events (which carry a grid id, not people).
    if (d.role === 'primary') shared.grids.push({ data: d, now });
    const subscribers = shared.subscribers.get(gridKey(gridsOf(event))) ?? [];
    let staff: DeliveryDraft[] = [];
    if (d.role !== 'merged' && shared.notices.first(d.incidentId, DISPATCH_NOTICE)) {
      const rendered = deps.catalog.dispatchAssigned(d);
      const people = assigneeContacts(d.assignees, d.contacts);
      // Each assignee's SMS carries their own code: `1 <code>` acknowledges by reply (written in by finish).
      const sms = shared.codes.add(d.workOrderId, people, smsDrafts(phonesOf(people), rendered, 'dispatch.assigned'), now);
      staff = [...sms, ...wecomDrafts(robot, rendered)];
    }
    return [...staff, ...webhookDrafts(subscribers, event.id, raw)];
  },

  async finish(_deps, client, shared) {
    await rememberWorkOrders(client, shared.workOrders);
    await rememberGrids(client, shared.grids);
    await shared.codes.issue(client);
  },
};

export function dispatchAssignedConsumer(deps: ConsumerDeps): InboxConsumer {
  return batchNotificationConsumer(deps, EventTypeName.dispatchAssigned, CONSUMER, planner);
}
