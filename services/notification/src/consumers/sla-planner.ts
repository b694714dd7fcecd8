import type { CloudEvent, EventTypeName, SubscriptionEventName } from '@griddispatch/contracts';
import type { PoolClient } from '@griddispatch/db';
import { webhookDrafts } from '../use-cases/draft-deliveries.ts';
import { findWorkOrdersAndSubscribers } from '../use-cases/find-subscribers.ts';
import { BatchNotices } from '../use-cases/incident-notices.ts';
import type { DeliveryDraft } from '../use-cases/record-deliveries.ts';
import type { WorkOrderRecord } from '../use-cases/remember-work-order.ts';
import { workOrderOrRetry, type BatchPlanner, type ConsumerDeps, type PlanInput } from './consume.ts';

type SlaEventType = typeof EventTypeName.slaWarning | typeof EventTypeName.slaBreached;

/** What a batch of SLA events shares: each event's stored work order and subscribers, and the incident notices they ask for. */
interface SlaBatch {
  /** By event id. */
  found: Map<string, { workOrder: WorkOrderRecord | null; subscribers: string[] }>;
  notices: BatchNotices;
}

export interface SlaPlannerSpec<T extends SlaEventType> {
  /** Whose subscribers get the event. */
  subscription: SubscriptionEventName;
  /** The incident notice an event asks for: staff hear of each once per incident, not once per caller. */
  noticeOf(event: CloudEvent<T>): string;
  /** The operator desk's deliveries when the work order never came. */
  desk(deps: ConsumerDeps, event: CloudEvent<T>): DeliveryDraft[];
  /** The staff's deliveries, when the event's notice is the incident's first. */
  staff(deps: ConsumerDeps, input: PlanInput<T>, workOrder: WorkOrderRecord): DeliveryDraft[];
}

/**
 * The planner of an SLA event (sla.warning, sla.breached), batch-first: the batch's work orders and
 * subscribers are read in one statement and the incident notices its events ask for claimed in
 * another, before its first event; then each event goes to its staff (once per incident and
 * notice), or to the operator desk when its work order never came, and to its subscribers.
 */
export function slaPlanner<T extends SlaEventType>(spec: SlaPlannerSpec<T>): BatchPlanner<T, SlaBatch> {
  return {
    async prepare(deps, client: PoolClient, events) {
      const results = await findWorkOrdersAndSubscribers(
        client,
        spec.subscription,
        events.map((e) => ({ workOrderId: e.data.workOrderId, gridId: e.data.gridId })),
      );
      const found = new Map(events.map((e, i) => [e.id, results[i] ?? { workOrder: null, subscribers: [] }]));
      const claims = events.flatMap((e) => {
        const incidentId = found.get(e.id)?.workOrder?.incidentId;
        return incidentId ? [{ incidentId, notice: spec.noticeOf(e) }] : [];
      });
      return { found, notices: await BatchNotices.claim(client, claims, deps.now()) };
    },

    async plan(deps, input, shared) {
      const { event, raw } = input;
      const { workOrder, subscribers } = shared.found.get(event.id) ?? { workOrder: null, subscribers: [] };
      const wo = workOrderOrRetry(deps, input, event.data.workOrderId, workOrder);
      let staff: DeliveryDraft[] = [];
      if (!wo) staff = spec.desk(deps, event);
      else if (shared.notices.first(wo.incidentId, spec.noticeOf(event))) staff = spec.staff(deps, input, wo);
      return [...staff, ...webhookDrafts(subscribers, event.id, raw)];
    },

    finish: async () => undefined,
  };
}
