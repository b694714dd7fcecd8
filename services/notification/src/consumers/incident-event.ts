import type { InboxConsumer } from '@griddispatch/db';
import {
  EventTypeName,
  EventTypes,
  INCIDENT_EVENT_TYPES,
  type CloudEvent,
  type IncidentEventType,
  type IncidentEventV1,
  type StaffRole,
  type SubscriptionEventName,
} from '@griddispatch/contracts';
import type { Mention } from '../templates/index.ts';
import { contactsWithRoles, deskDrafts, phonesOf, robotFor, smsDrafts, webhookDrafts, wecomDrafts } from '../use-cases/draft-deliveries.ts';
import { findGridsAndSubscribers } from '../use-cases/find-subscribers.ts';
import { BatchNotices, DISPATCH_NOTICE } from '../use-cases/incident-notices.ts';
import type { DeliveryDraft } from '../use-cases/record-deliveries.ts';
import type { GridRecord } from '../use-cases/remember-grid.ts';
import { batchNotificationConsumer, GridNotKnownYetError, type BatchPlanner, type ConsumerDeps, type PlanInput } from './consume.ts';

export const CONSUMER = 'notification.incidents-events';

/** Who hears of a feeder incident's opening: the line's repair crew and the station head. */
const FEEDER_ROLES: readonly StaffRole[] = ['repair_crew', 'station_head'];

/**
 * incidents.events → integrators subscribed to `incident.opened` / `.updated` / `.restored` /
 * `.closed` get every event (subscriptions filtered on the incident's grid or its area grid).
 * Staff hear of an incident through its primary's dispatch — except a feeder incident: when it
 * opens, the feeder grid's repair crew and station head get one notice (SMS and a card), claimed as
 * the incident's dispatch notice, so the dispatch of the feeder's own work order (intake opens it,
 * grid-routing routes it as the primary) tells no one again. District incidents' own events reach
 * integrators only.
 */
/** The batch's grids and subscribers (by event id), and its feeder incidents' dispatch notices, read and claimed before its first event. */
interface Shared {
  found: Map<string, { grid: GridRecord | null; subscribers: string[] }>;
  notices: BatchNotices;
}

const isFeederOpening = (event: CloudEvent<IncidentEventType>): boolean => event.type === EventTypeName.incidentOpened && event.data.kind === 'feeder';

const planner: BatchPlanner<IncidentEventType, Shared> = {
  async prepare(deps, client, events) {
    const results = await findGridsAndSubscribers(
      client,
      events.map((e) => ({ gridId: e.data.gridId, event: EventTypes[e.type].short as SubscriptionEventName })),
    );
    const found = new Map(events.map((e, i) => [e.id, results[i] ?? { grid: null, subscribers: [] }]));
    const claims = events.filter(isFeederOpening).map((e) => ({ incidentId: e.data.id, notice: DISPATCH_NOTICE }));
    return { found, notices: await BatchNotices.claim(client, claims, deps.now()) };
  },

  async plan(deps, input, shared) {
    const { event, raw } = input;
    const d = event.data;
    const { grid, subscribers } = shared.found.get(event.id) ?? { grid: null, subscribers: [] };
    // The incident's grid's area grid, when its own row names one (its robot may be the area's).
    const area = grid?.gridId === d.gridId ? grid.areaId : null;
    let staff: DeliveryDraft[] = [];
    if (isFeederOpening(event) && shared.notices.first(d.id, DISPATCH_NOTICE)) {
      staff = feederNotice(deps, input, d, grid, area);
    }
    return [...staff, ...webhookDrafts(subscribers, event.id, raw)];
  },

  finish: async () => undefined,
};

function feederNotice(
  deps: ConsumerDeps,
  input: PlanInput<IncidentEventType>,
  d: IncidentEventV1,
  grid: GridRecord | null,
  area: string | null,
): DeliveryDraft[] {
  const people = grid ? contactsWithRoles(grid.contacts, FEEDER_ROLES) : [];
  if (people.length === 0) {
    // The grid's people come with its primary dispatches, on another topic: wait for them, then the desk.
    if (input.message.attempt < deps.maxAttempts) {
      throw new GridNotKnownYetError(`no repair crew or station head known for grid ${d.gridId} yet (attempt ${input.message.attempt} of ${deps.maxAttempts})`);
    }
    input.log.warn({ gridId: d.gridId, incidentId: d.id }, 'feeder incident: no repair crew or station head known for its grid, telling the operator desk');
    return deskDrafts(deps.config, 'operators', deps.catalog.feederIncident(d, []), 'incident.opened');
  }
  const mentions: Mention[] = people.map((p) => ({ name: p.name, role: p.role, ...(p.wecomUserId ? { wecomUserId: p.wecomUserId } : {}) }));
  const rendered = deps.catalog.feederIncident(d, mentions);
  return [...smsDrafts(phonesOf(people), rendered, 'incident.opened'), ...wecomDrafts(robotFor(deps.config, d.gridId, area), rendered)];
}

export function incidentEventConsumer(deps: ConsumerDeps): InboxConsumer {
  return batchNotificationConsumer(deps, INCIDENT_EVENT_TYPES, CONSUMER, planner);
}
