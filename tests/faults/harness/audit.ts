import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { Topics } from '@griddispatch/contracts';
import type { KafkaLog, LoggedRecord } from './kafka-log.ts';
import type { ServiceProcess } from './processes.ts';
import type { WebhookSink } from './webhook-sink.ts';

// After each scenario: wait until the stack is quiet, then account for every request.
//
// What "exactly once" means here (the outbox relay is at-least-once: a crash between publishing
// a batch and deleting its rows publishes the batch again, with the same event ids):
// - dispatched exactly once: every accepted request id has exactly ONE dispatch decision, i.e. one
//   distinct event id over dispatch.assigned ∪ dispatch.unroutable; no id is dispatched that was
//   not accepted. A republished copy of that same event (same event id) is counted and printed
//   ("republished"), and is harmless because every consumer applies an event id once (inbox) —
//   which the notification counts below check from the outside.
// - every due breach emitted once: for each routed work order, every (stage, level) of its plan
//   whose time has come is on sla.breaches under exactly ONE distinct event id.
// - no duplicate notification: each subscription's receiver got every webhook (dispatch,
//   warning, breach events of these work orders) and, deduplicating by webhook-id as Standard
//   Webhooks asks receivers to, applied each once. Taken 2xx twice ("repeats") can only happen
//   when notification sent, the receiver answered, and the result was lost before notification
//   recorded it (its process killed mid-send); the row's lease then brings the send back. So
//   repeats must equal the sends notification never recorded ("unrecorded"), which are only
//   allowed in scenarios that take notification's process or database away mid-send.
// - DLQs: hold exactly the poison records the scenario injected (once per consuming group), and
//   nothing else.

export interface QuietOptions {
  timeoutMs: number;
  services: ServiceProcess[];
  sinks: WebhookSink[];
  log: (line: string) => void;
}

interface Backlog {
  lag: Record<string, number>;
  outbox: number;
  pendingTimers: number;
  pendingDeliveries: number;
  receiving: number;
}

async function backlog(pool: pg.Pool, kafka: KafkaLog, sinks: WebhookSink[]): Promise<Backlog> {
  const { rows } = await pool.query<{ outbox: number; timers: number; deliveries: number }>(
    `SELECT (SELECT count(*) FROM intake.outbox) + (SELECT count(*) FROM routing.outbox) + (SELECT count(*) FROM sla_timer.outbox)
              + (SELECT count(*) FROM notification.outbox) AS outbox,
            (SELECT count(*) FROM sla_timer.timers WHERE state = 'pending') AS timers,
            (SELECT count(*) FROM notification.deliveries WHERE status = 'pending') AS deliveries`,
  );
  const row = rows[0]!;
  return {
    lag: await kafka.lag(),
    outbox: Number(row.outbox),
    pendingTimers: Number(row.timers),
    pendingDeliveries: Number(row.deliveries),
    receiving: sinks.reduce((n, s) => n + s.pending(), 0),
  };
}

function isQuiet(b: Backlog): boolean {
  return b.outbox === 0 && b.pendingTimers === 0 && b.pendingDeliveries === 0 && b.receiving === 0 && Object.values(b.lag).every((l) => l === 0);
}

function describe(b: Backlog): string {
  const lagging = Object.entries(b.lag)
    .filter(([, l]) => l > 0)
    .map(([g, l]) => `${g}=${l}`);
  return `lag [${lagging.join(' ') || '0'}] outbox ${b.outbox} timers ${b.pendingTimers} deliveries ${b.pendingDeliveries} receiving ${b.receiving}`;
}

/**
 * Until consumer lag is 0 for every service group, the four outboxes (notification's holds the
 * ext.* feed) are empty, no SLA timer and no delivery is pending and no receiver is mid-answer — twice in a row, a second apart.
 * Returns how long it took.
 */
export async function waitUntilQuiet(pool: pg.Pool, kafka: KafkaLog, options: QuietOptions): Promise<number> {
  const started = Date.now();
  let quietChecks = 0;
  let last = 'not checked yet';
  let lagging: string[] = [];
  let nextReport = started + 15_000;
  for (;;) {
    for (const s of options.services) if (!s.running) throw new Error(`${s.name} is not running:\n${s.logTail()}`);
    try {
      const b = await backlog(pool, kafka, options.sinks);
      last = describe(b);
      lagging = Object.keys(b.lag).filter((g) => (b.lag[g] ?? 0) > 0);
      quietChecks = isQuiet(b) ? quietChecks + 1 : 0;
      if (quietChecks >= 2) return Date.now() - started;
    } catch (err) {
      quietChecks = 0;
      last = `backlog not readable: ${(err as Error).message}`;
    }
    if (quietChecks === 0 && Date.now() - started > 10_000) {
      const notReady = await notReadyServices(options.services);
      if (notReady.length > 0) last += `; not ready: ${notReady.join(', ')}`;
    }
    if (Date.now() > nextReport) {
      if (Date.now() - started > 30_000) last += await stallDetails(pool, kafka, lagging);
      options.log(`  waiting for quiet (${Math.round((Date.now() - started) / 1000)} s): ${last}`);
      nextReport = Date.now() + 15_000;
    }
    if (Date.now() - started > options.timeoutMs) throw new Error(`not quiet after ${options.timeoutMs} ms: ${last}`);
    await sleep(1_000);
  }
}

/**
 * What a stack that stays busy is doing: the lagging groups' state and partitions, and the
 * database sessions in a transaction for over 5 s (who, waiting on what, which statement).
 */
async function stallDetails(pool: pg.Pool, kafka: KafkaLog, lagging: string[]): Promise<string> {
  const out: string[] = [];
  try {
    for (const group of lagging) out.push(await kafka.describeGroup(group));
    const { rows } = await pool.query<{ who: string; state: string; wait: string; seconds: number; query: string }>(
      `SELECT application_name AS who, state, coalesce(wait_event_type || ':' || wait_event, '-') AS wait,
              round(extract(epoch FROM now() - xact_start))::int AS seconds, left(regexp_replace(query, '\\s+', ' ', 'g'), 100) AS query
       FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start < now() - interval '5 seconds'`,
    );
    for (const r of rows) out.push(`pg ${r.who} ${r.state} ${r.seconds} s waiting ${r.wait}: ${r.query}`);
  } catch (err) {
    out.push(`(no details: ${(err as Error).message})`);
  }
  return out.length > 0 ? `\n    ${out.join('\n    ')}` : '';
}

/** Services whose /readyz does not answer 200 (a consumer that died, a dependency away). */
async function notReadyServices(services: ServiceProcess[]): Promise<string[]> {
  const out: string[] = [];
  for (const s of services) {
    try {
      const res = await fetch(`${s.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      if (res.status !== 200) out.push(`${s.name} ${body}`);
    } catch (err) {
      out.push(`${s.name} (${(err as Error).message})`);
    }
  }
  return out;
}

// --- accounting ----------------------------------------------------------------------------------

export interface SinkCounts {
  expected: number;
  /** Distinct webhook-ids the receiver took (2xx) at least once. */
  applied: number;
  missing: number;
  /** Webhooks for events this audit does not know (should be 0). */
  unexpected: number;
  /** 2xx answers beyond the first per webhook-id. */
  repeats: number;
  /** Answers 500 (failing receiver). */
  refused: number;
  badSignatures: number;
  /** Sends that reached the receiver but are not in notification's attempt count. */
  unrecorded: number;
}

export interface ScenarioCounts {
  scenario: string;
  seconds: number;
  quietSeconds: number;
  requests: number;
  accepted: number;
  resends: number;
  lostOrRejected: number;
  received: number;
  receivedRepublished: number;
  dispatched: number;
  assigned: number;
  unroutable: number;
  dispatchedTwice: number;
  notDispatched: number;
  dispatchedNotAccepted: number;
  dispatchRepublished: number;
  breachesDue: number;
  breachesEmitted: number;
  breachesTwice: number;
  breachesMissing: number;
  breachesUnexpected: number;
  breachesLate: number;
  warnings: number;
  warningsTwice: number;
  sinks: Record<string, SinkCounts>;
  deliveriesNotDelivered: number;
  dlqExpected: number;
  dlqRecords: number;
  dlqUnexpected: number;
  /** What the unexpected or missing DLQ records are. */
  dlqDetails: string[];
  /** Request ids stored and published that no source system was ever told about. */
  orphans: number;
}

export interface AuditInput {
  scenario: string;
  seconds: number;
  quietSeconds: number;
  requests: number;
  resends: number;
  lostOrRejected: number;
  /** Request ids this scenario's load got 202 for. */
  accepted: Set<string>;
  /** Ids accepted by any scenario so far (for orphans). */
  allAccepted: Set<string>;
  records: LoggedRecord[];
  /** Each receiver by name, with the subscription it serves. */
  sinks: Record<string, { subscriptionId: string; sink: WebhookSink }>;
  /** DLQ records this scenario should find: `<dlq topic>|<group>|<key>`. */
  expectedDlq: Set<string>;
  /** DLQ records already attributed to earlier scenarios (`topic:partition:offset`). */
  seenDlq: Set<string>;
  pool: pg.Pool;
  now: Date;
}

function group<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

const distinct = <T>(items: T[]) => new Set(items).size;

interface BreachData {
  workOrderId: string;
  stage: string;
  level: number;
  late: boolean;
}

interface PlanData {
  workOrderId: string;
  role?: 'primary' | 'merged';
  sla: { deadlines: Record<string, string>; escalation: { afterMs: number }[] };
}

/** The breach levels a plan makes due: level 1 at the deadline (with every `after: 0` step), then one per later step. */
function dueBreaches(plan: PlanData['sla'], now: Date): string[] {
  const later = plan.escalation.filter((s) => s.afterMs > 0).map((s) => s.afterMs);
  const out: string[] = [];
  for (const [stage, deadline] of Object.entries(plan.deadlines)) {
    const at = Date.parse(deadline);
    [0, ...later].forEach((afterMs, i) => {
      if (at + afterMs <= now.getTime()) out.push(`${stage}|${i + 1}`);
    });
  }
  return out;
}

const INCIDENT_SOURCE = 'grid-dispatch';
const requestSource = (r: { event: { data?: Record<string, unknown> } | null }) => (r.event?.data?.request as { source?: string } | undefined)?.source;

export async function audit(input: AuditInput): Promise<ScenarioCounts> {
  const { accepted, records } = input;
  const mine = (id: unknown) => typeof id === 'string' && accepted.has(id);
  const events = records.filter((r) => r.event !== null && !r.topic.endsWith('.dlq'));
  const on = (topic: string) => events.filter((r) => r.topic === topic);

  // requests.received: the request id is data.id.
  const received = on(Topics.requestsReceived).filter((r) => mine(r.event!.data?.id));
  const receivedIds = group(received, (r) => String(r.event!.data!.id));
  // An incident opened without a call gets a work order of intake's own (source grid-dispatch,
  // docs/architecture.md#incidents rule 2): no caller sent it, so it is no orphan.
  const orphans = on(Topics.requestsReceived).filter(
    (r) => !input.allAccepted.has(String(r.event!.data?.id)) && r.event!.data?.source !== INCIDENT_SOURCE,
  ).length;

  // dispatch decisions: data.workOrderId (== request id).
  const dispatchAll = [...on(Topics.dispatchAssigned), ...on(Topics.dispatchUnroutable)];
  const dispatch = dispatchAll.filter((r) => mine(r.event!.data?.workOrderId));
  const byWorkOrder = group(dispatch, (r) => String(r.event!.data!.workOrderId));
  let dispatchedTwice = 0;
  let assigned = 0;
  let unroutable = 0;
  const plans: PlanData[] = [];
  for (const [, list] of byWorkOrder) {
    const ids = new Set(list.map((r) => r.event!.id));
    if (ids.size > 1) dispatchedTwice += 1;
    const first = list[0]!;
    if (first.topic === Topics.dispatchAssigned) {
      assigned += 1;
      // A merged call of an incident has no clocks of its own (rule 1): no breach is due for it.
      const plan = first.event!.data as unknown as PlanData;
      if (plan.role !== 'merged') plans.push(plan);
    } else {
      unroutable += 1;
    }
  }
  const dispatchedNotAccepted = new Set(
    dispatchAll
      .filter((r) => requestSource(r) !== INCIDENT_SOURCE)
      .map((r) => String(r.event!.data?.workOrderId))
      .filter((id) => !input.allAccepted.has(id)),
  ).size;

  // Breaches and warnings of these work orders.
  const breaches = on(Topics.slaBreaches).filter((r) => mine(r.event!.data?.workOrderId));
  const breachKeys = group(breaches, (r) => {
    const d = r.event!.data as unknown as BreachData;
    return `${d.workOrderId}|${d.stage}|${d.level}`;
  });
  const due = new Set(plans.flatMap((p) => dueBreaches(p.sla, input.now).map((k) => `${p.workOrderId}|${k}`)));
  let breachesTwice = 0;
  let breachesLate = 0;
  for (const [, list] of breachKeys) {
    if (distinct(list.map((r) => r.event!.id)) > 1) breachesTwice += 1;
    if ((list[0]!.event!.data as unknown as BreachData).late) breachesLate += 1;
  }
  const warnings = on(Topics.slaWarnings).filter((r) => mine(r.event!.data?.workOrderId));
  const warningKeys = group(warnings, (r) => `${String(r.event!.data!.workOrderId)}|${String(r.event!.data!.stage)}`);
  const warningsTwice = [...warningKeys.values()].filter((list) => distinct(list.map((r) => r.event!.id)) > 1).length;

  // Webhooks: one per distinct event id of these work orders' dispatch, warning and breach events.
  const notified = new Set([...dispatch, ...warnings, ...breaches].map((r) => r.event!.id));
  const { rows: deliveryRows } = await input.pool.query<{
    event_id: string;
    channel: string;
    subscription_id: string | null;
    status: string;
    attempts: number;
  }>(`SELECT event_id, channel, subscription_id, status, attempts FROM notification.deliveries WHERE work_order_id = ANY($1::text[])`, [[...accepted]]);
  const attemptsBySubscriptionEvent = new Map(deliveryRows.filter((d) => d.subscription_id).map((d) => [`${d.subscription_id}|${d.event_id}`, d.attempts]));
  const sinks: Record<string, SinkCounts> = {};
  for (const [name, { subscriptionId, sink }] of Object.entries(input.sinks)) {
    const seen = [...sink.byId.values()].filter((w) => w.workOrderId !== null && accepted.has(w.workOrderId));
    const appliedIds = new Set(seen.filter((w) => w.accepted > 0).map((w) => w.id));
    sinks[name] = {
      expected: notified.size,
      applied: [...appliedIds].filter((id) => notified.has(id)).length,
      missing: [...notified].filter((id) => !appliedIds.has(id)).length,
      unexpected: [...appliedIds].filter((id) => !notified.has(id)).length,
      repeats: seen.reduce((n, w) => n + Math.max(0, w.accepted - 1), 0),
      refused: seen.reduce((n, w) => n + w.refused, 0),
      badSignatures: seen.reduce((n, w) => n + w.badSignatures, 0),
      unrecorded: seen.reduce((n, w) => n + Math.max(0, w.arrivals - (attemptsBySubscriptionEvent.get(`${subscriptionId}|${w.id}`) ?? 0)), 0),
    };
  }
  // SMS go to the log in this stack (no vendor configured): `logged` is finished, not lost.
  const deliveriesNotDelivered = deliveryRows.filter((d) => d.status !== 'delivered' && d.status !== 'logged').length;

  // DLQs: records not attributed to an earlier scenario.
  const dlq = records.filter((r) => r.topic.endsWith('.dlq') && !input.seenDlq.has(`${r.topic}:${r.partition}:${r.offset}`));
  for (const r of dlq) input.seenDlq.add(`${r.topic}:${r.partition}:${r.offset}`);
  const dlqFound = new Set(dlq.map((r) => `${r.topic}|${r.headers['x-dlq-group-id'] ?? '?'}|${r.key}`));
  const unexpectedDlq = dlq.filter((r) => !input.expectedDlq.has(`${r.topic}|${r.headers['x-dlq-group-id'] ?? '?'}|${r.key}`));
  const dlqMissing = [...input.expectedDlq].filter((k) => !dlqFound.has(k));

  return {
    scenario: input.scenario,
    seconds: input.seconds,
    quietSeconds: input.quietSeconds,
    requests: input.requests,
    accepted: accepted.size,
    resends: input.resends,
    lostOrRejected: input.lostOrRejected,
    received: receivedIds.size,
    receivedRepublished: received.length - distinct(received.map((r) => r.event!.id)),
    dispatched: byWorkOrder.size,
    assigned,
    unroutable,
    dispatchedTwice,
    notDispatched: [...accepted].filter((id) => !byWorkOrder.has(id)).length,
    dispatchedNotAccepted,
    dispatchRepublished: dispatch.length - distinct(dispatch.map((r) => r.event!.id)),
    breachesDue: due.size,
    breachesEmitted: breachKeys.size,
    breachesTwice,
    breachesMissing: [...due].filter((k) => !breachKeys.has(k)).length,
    breachesUnexpected: [...breachKeys.keys()].filter((k) => !due.has(k)).length,
    breachesLate,
    warnings: warningKeys.size,
    warningsTwice,
    sinks,
    deliveriesNotDelivered,
    dlqExpected: input.expectedDlq.size,
    dlqRecords: dlq.length,
    dlqUnexpected: unexpectedDlq.length + dlqMissing.length,
    dlqDetails: [
      ...unexpectedDlq.map(
        (r) =>
          `unexpected on ${r.topic} (group ${r.headers['x-dlq-group-id'] ?? '?'}, key ${r.key}, ${r.headers['x-dlq-attempts'] ?? '?'} attempts): ${r.headers['x-dlq-error'] ?? '?'}`,
      ),
      ...dlqMissing.map((k) => `missing: ${k}`),
    ],
    orphans,
  };
}
