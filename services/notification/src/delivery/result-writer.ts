import type { Pool } from 'pg';
import type { SendOutcome } from '../channels/types.ts';
import type { DeliveryStatus } from '../schema.ts';
import { GroupCommitWriter } from '@griddispatch/db';
import { SCHEMA } from '../schema.ts';

// Writes attempt results in batches (group commit, one statement and one write at a time): under
// load one fsync covers many deliveries instead of one each, which leaves the connections and the
// disk to the consumers.

export interface AttemptResult {
  deliveryId: string;
  /** Attempts the row had when claimed: the write applies only if it still has them. */
  claimedAttempts: number;
  status: DeliveryStatus;
  attempts: number;
  outcome: SendOutcome['kind'];
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  startedAt: Date;
  now: Date;
}

export class ResultWriter {
  private readonly writer: GroupCommitWriter<AttemptResult, boolean>;

  constructor(private readonly pool: Pool) {
    this.writer = new GroupCommitWriter({
      maxGroup: 500,
      maxInFlight: 1,
      writeGroup: async (results) => {
        const written = await this.flush(results);
        return results.map((result) => ({ ok: true, value: written.has(result.deliveryId) }));
      },
    });
  }

  /** Resolves true once written; false when another worker had taken the row over meanwhile. */
  write(result: AttemptResult): Promise<boolean> {
    return this.writer.write(result);
  }

  /** The results and their attempt-log rows in one statement (atomic); returns the ids written. */
  private async flush(results: readonly AttemptResult[]): Promise<Set<string>> {
    const col = <T>(pick: (r: AttemptResult) => T) => results.map(pick);
    const { rows } = await this.pool.query<{ delivery_id: string }>(
      `WITH r AS (
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::int[], $5::text[], $6::int[], $7::text[], $8::int[],
                              $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::timestamptz[])
           AS r(id, claimed_attempts, status, attempts, outcome, status_code, error, latency_ms,
                next_attempt_at, delivered_at, started_at, now)),
       updated AS (
         UPDATE ${SCHEMA}.deliveries d
            SET status = r.status, attempts = r.attempts, last_status_code = r.status_code, last_error = r.error,
                latency_ms = r.latency_ms, next_attempt_at = r.next_attempt_at, updated_at = r.now, delivered_at = r.delivered_at
           FROM r
          WHERE d.id = r.id AND d.attempts = r.claimed_attempts AND d.status = 'pending'
         RETURNING d.id)
       INSERT INTO ${SCHEMA}.delivery_attempts (delivery_id, attempt, started_at, outcome, status_code, error, latency_ms)
       SELECT r.id, r.attempts, r.started_at, r.outcome, r.status_code, r.error, r.latency_ms
         FROM r JOIN updated u ON u.id = r.id
       RETURNING delivery_id`,
      [
        col((r) => r.deliveryId),
        col((r) => r.claimedAttempts),
        col((r) => r.status),
        col((r) => r.attempts),
        col((r) => r.outcome),
        col((r) => r.statusCode),
        col((r) => r.error),
        col((r) => r.latencyMs),
        col((r) => r.nextAttemptAt),
        col((r) => r.deliveredAt),
        col((r) => r.startedAt),
        col((r) => r.now),
      ],
    );
    return new Set(rows.map((r) => r.delivery_id));
  }
}
