import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import type { SampleCounty } from '@griddispatch/grid';

// The callers of the 后湖 outage (bench/customers.ts): a share of the affected customers ring 95598
// while the power is off — fault calls through intake's POST /v1/requests with the customer's
// account, mobile and 台区, which grid-routing merges into the open incidents. On restoration each
// of them is asked to confirm (回访): intake writes the callback row and puts callback.requested on
// callbacks.events, notification writes the ask's delivery row and texts it.

type Customer = SampleCounty['customers'][number];

/** `n` callers spread over the station: every k-th account with a mobile, one call per number. */
export function pickCallers(customers: readonly Customer[], n: number): (Customer & { phone: string })[] {
  const seen = new Set<string>();
  const unique = [...customers]
    .filter((c): c is Customer & { phone: string } => !!c.phone && !seen.has(c.phone) && !!seen.add(c.phone))
    .sort((a, b) => a.accountNo.localeCompare(b.accountNo));
  const step = unique.length / Math.min(n, unique.length);
  return Array.from({ length: Math.min(n, unique.length) }, (_, i) => unique[Math.floor(i * step)]!);
}

/** POSTs the calls, `concurrency` at once, as a 95598 agent's system would; each must be accepted (202). */
export async function postCalls(
  host: FastifyInstance,
  key: string,
  tag: string,
  callers: readonly (Customer & { phone: string })[],
  concurrency = 32,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < callers.length) {
        const c = callers[next++]!;
        const res = await host.inject({
          method: 'POST',
          url: '/v1/requests',
          headers: { authorization: `Bearer ${key}` },
          payload: {
            source: '95598',
            externalId: `${tag}-${c.accountNo}`,
            category: 'fault_repair',
            description: '家里停电了',
            urgency: 'normal',
            customer: { accountNo: c.accountNo, phone: c.phone, classes: c.classes },
            location: { districtCode: c.districtCode },
          },
        });
        if (res.statusCode !== 202) throw new Error(`POST /v1/requests: ${res.statusCode} ${res.body}`);
      }
    }),
  );
}

/** How many of the calls intake's read model shows merged into an incident. */
export async function mergedCalls(pool: Pool, tag: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM intake.requests WHERE external_id LIKE $1 AND incident_id IS NOT NULL`, [
    `${tag}-%`,
  ]);
  return rows[0]!.n;
}

export interface Spread {
  p50: number;
  max: number;
}

const spread = (values: number[]): Spread => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: Math.round(at(0.5) * 100) / 100, max: Math.round(sorted[sorted.length - 1]! * 100) / 100 };
};

export interface CallbackFigures {
  asks: number;
  /** Seconds from each caller's incident.restored (its restoredAt) to: intake's callback row, notification's delivery row, the vendor's answer. */
  perAsk: { asked: Spread; queued: Spread; sent: Spread };
  /** Seconds from the station's first incident.restored (any incident) to the last ask queued and sent. */
  firstRestoredToLastQueuedSeconds: number;
  firstRestoredToLastSentSeconds: number;
}

/**
 * The callback asks as the databases recorded them: intake's callbacks row (asked_at), the ask
 * known to notification (callback_asks) and its SMS delivery row (same normalised number) —
 * each ask exactly once, every one delivered, or the bench fails.
 */
export async function callbackFigures(pool: Pool, tag: string, expected: number, firstRestored: Date): Promise<CallbackFigures> {
  const { rows } = await pool.query<{ restored: Date; asked: Date; queued: Date; sent: Date | null; status: string }>(
    `SELECT i.restored_at AS restored, c.asked_at AS asked, d.created_at AS queued, d.delivered_at AS sent, d.status
       FROM intake.requests r
       JOIN intake.callbacks c ON c.request_id = r.id
       JOIN notification.callback_asks a ON a.request_id = r.id::text
       JOIN routing.incidents i ON i.id = c.incident_id
       JOIN notification.deliveries d ON d.event_type = 'cn.griddispatch.callback.requested.v1' AND d.recipient = a.phone
      WHERE r.external_id LIKE $1`,
    [`${tag}-%`],
  );
  const notDelivered = rows.filter((r) => r.status !== 'delivered' || r.sent === null);
  if (rows.length !== expected || notDelivered.length > 0) {
    throw new Error(
      `expected ${expected} callback asks, each delivered once; found ${rows.length} (${notDelivered.length} not delivered: ${[...new Set(notDelivered.map((r) => r.status))].join(', ')})`,
    );
  }
  const since = (r: (typeof rows)[number], at: Date) => (at.getTime() - r.restored.getTime()) / 1000;
  const first = firstRestored.getTime();
  const last = (pick: (r: (typeof rows)[number]) => Date) => Math.round((Math.max(...rows.map((r) => pick(r).getTime())) - first) / 10) / 100;
  return {
    asks: rows.length,
    perAsk: {
      asked: spread(rows.map((r) => since(r, r.asked))),
      queued: spread(rows.map((r) => since(r, r.queued))),
      sent: spread(rows.map((r) => since(r, r.sent!))),
    },
    firstRestoredToLastQueuedSeconds: last((r) => r.queued),
    firstRestoredToLastSentSeconds: last((r) => r.sent!),
  };
}
