import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withTransaction } from '@griddispatch/db';
import { at, closeAllIncidents, fault, importFeederDistricts, routingContext } from './testing/incident-fixture.ts';
import { assigned, startHarness, type Harness } from './testing/harness.ts';
import { restoreIncident } from './use-cases/incidents.ts';
import { reopenIncident } from './use-cases/reopen-incident.ts';

// A callback answered `still_out` (docs/architecture.md#callbacks-and-replies): the follow-up
// incident on the caller's 台区, once, with the original start, and its place in the reports'
// interruptions — against a real PostgreSQL.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await importFeederDistricts(h.db.pool);
});
afterAll(async () => h?.close());
beforeEach(async () => closeAllIncidents(h));

interface Row {
  id: string;
  status: string;
  opened_at: Date;
  evidence_at: Date;
  interrupted_until: Date | null;
  reopened_from: string | null;
  parent_id: string | null;
}
const row = async (id: string): Promise<Row> =>
  (
    await h.db.pool.query<Row>('SELECT id, status, opened_at, evidence_at, interrupted_until, reopened_from, parent_id FROM routing.incidents WHERE id = $1', [
      id,
    ])
  ).rows[0]!;

/** A call on the 台区 opens an incident; its crew restores it at `restoredAt`. */
async function restoredOutage(districtCode: string, calledAt: string, restoredAt: string): Promise<{ incidentId: string; requestId: string }> {
  const call = fault(calledAt, districtCode);
  const [out] = (await h.send(call)).map(assigned);
  const incidentId = out!.incidentId!;
  await withTransaction(h.db.pool, (client) =>
    restoreIncident(routingContext(h.db.pool), client, incidentId, { at: new Date(at(restoredAt)), by: 'crew', unconfirmed: false }),
  );
  return { incidentId, requestId: call.data.id };
}

const reopen = (input: { incidentId: string; requestId: string }) =>
  withTransaction(h.db.pool, (client) => reopenIncident(routingContext(h.db.pool), client, input));

describe('still out after the restoration', () => {
  it('opens one follow-up on the 台区 with the original start, continuing where the restored interruption ended', async () => {
    const outage = await restoredOutage('TQ-006', '2026-12-01T09:00:00', '2026-12-01T09:30:00');
    const reopenedAt = Date.now();
    const first = await reopen(outage);
    expect(first).toMatchObject({ status: 'opened' });
    const followUp = await row((first as { incidentId: string }).incidentId);
    const restored = await row(outage.incidentId);
    expect(followUp).toMatchObject({ status: 'open', reopened_from: outage.incidentId, opened_at: restored.opened_at });
    expect(followUp.evidence_at).toEqual(restored.interrupted_until);
    // Its ETR counts from the reopening, not from the original start days ago.
    const { rows } = await h.db.pool.query<{ etr: Date }>('SELECT etr FROM routing.incidents WHERE id = $1', [followUp.id]);
    expect(rows[0]!.etr.getTime()).toBeGreaterThan(reopenedAt);
    // A second caller's `still_out`: the same follow-up, nothing new.
    expect(await reopen(outage)).toEqual({ status: 'noop', reason: 'already_reopened', incidentId: followUp.id });
  });

  it('opens nothing while the 台区 is in an open incident already', async () => {
    const outage = await restoredOutage('TQ-006', '2026-12-01T11:00:00', '2026-12-01T11:20:00');
    const [again] = (await h.send(fault('2026-12-01T11:40:00', 'TQ-006'))).map(assigned);
    expect(await reopen(outage)).toEqual({ status: 'noop', reason: 'already_open', incidentId: again!.incidentId });
  });

  it('nested under an open feeder incident, the follow-up leaves the feeder’s start where it was', async () => {
    const outage = await restoredOutage('TQ-006', '2026-12-01T13:00:00', '2026-12-01T13:30:00');
    // Three more 台区 of the feeder go out: a feeder incident opens over them.
    const outs = (await h.send(fault('2026-12-01T14:00:00', 'TQ-001'), fault('2026-12-01T14:01:00', 'TQ-002'), fault('2026-12-01T14:02:00', 'TQ-005'))).map(
      assigned,
    );
    const parentId = (await row(outs[0]!.incidentId!)).parent_id!;
    expect(parentId).not.toBeNull();
    const before = await row(parentId);
    const result = await reopen(outage);
    expect(result).toMatchObject({ status: 'opened' });
    const followUp = await row((result as { incidentId: string }).incidentId);
    expect(followUp.parent_id).toBe(parentId);
    expect((await row(parentId)).evidence_at).toEqual(before.evidence_at);
  });
});
