import type { PoolClient } from 'pg';
import { SCHEMA } from '../schema.ts';

// A typhoon brings hundreds of calls from one 台区 within minutes; grid-routing joins them into one
// incident and sends one crew (docs/architecture.md#incidents). Staff hear of the incident once:
// the primary's dispatch (a merged call's dispatch reaches integrators only), and each (stage,
// level) of its warnings and breaches once. A feeder incident's crew is told when it opens; its
// own work order's dispatch then finds the incident's `dispatch` notice taken and tells no one
// again. Integrators' webhooks still get every event.

/** The one dispatch notice of an incident: its primary's dispatch, or a feeder incident's opening. */
export const DISPATCH_NOTICE = 'dispatch';

/** A notice of an incident that an event of a batch asks for. */
export interface NoticeClaim {
  incidentId: string;
  notice: string;
}

/**
 * The notices a consumer's batch will ask for, claimed in one statement (in the order given, which
 * is the order the batch locks them in) before its first event is applied. `first` then answers
 * each event in turn: true the first time a notice is claimed for the incident (and always for a
 * work order in none) — true for the batch's first asker of a notice whose claim is new. The claims
 * commit with the consumer's transaction; a concurrent claim of the same notice waits for it and
 * then finds it taken.
 */
export class BatchNotices {
  private constructor(private readonly fresh: Set<string>) {}

  static async claim(client: PoolClient, claims: readonly NoticeClaim[], now: Date): Promise<BatchNotices> {
    const unique = new Map(claims.map((c) => [keyOf(c.incidentId, c.notice), c]));
    if (unique.size === 0) return new BatchNotices(new Set());
    const { rows } = await client.query<{ incident_id: string; notice: string }>(
      `INSERT INTO ${SCHEMA}.incident_notices (incident_id, notice, created_at)
       SELECT incident_id, notice, $3 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(incident_id, notice, n) ORDER BY n
       ON CONFLICT DO NOTHING
       RETURNING incident_id, notice`,
      [[...unique.values()].map((c) => c.incidentId), [...unique.values()].map((c) => c.notice), now],
    );
    return new BatchNotices(new Set(rows.map((r) => keyOf(r.incident_id, r.notice))));
  }

  first(incidentId: string | null, notice: string): boolean {
    if (!incidentId) return true;
    return this.fresh.delete(keyOf(incidentId, notice));
  }
}

const keyOf = (incidentId: string, notice: string): string => `${incidentId}\u0000${notice}`;
