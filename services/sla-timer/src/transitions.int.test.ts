import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestInProcessBus } from '@griddispatch/testkit';
import { parsePolicy } from '@griddispatch/sla';
import { startHarness, type Emitted, type Harness } from './testing/harness.ts';

// Every clock transition of issue 5 against a real PostgreSQL, with the in-process bus and a
// controllable clock: time moves only when the test says so, and `advance` fires what is due.

const S = 1000;
const M = 60_000;
const T0 = new Date('2026-03-10T02:00:00.000Z'); // Tuesday 10:00 in Shanghai

const policy = parsePolicy({
  rules: [
    {
      name: 'circle',
      match: { customerClass: ['aquaculture'] },
      windows: { ack: '60s', arrive: '5m', resolve: '20m' },
      warnBefore: '30s',
      escalation: [
        { after: '0s', notify: ['assistant', 'repair_crew'] },
        { after: '2m', notify: ['supervisor'] },
        { after: '5m', notify: ['station_head'] },
      ],
    },
    { name: 'default', match: {}, windows: { ack: '10m' } },
  ],
});
const circle = { customerClasses: ['aquaculture'] };

// Warnings and breaches travel on two topics, whose relative order no consumer can rely on: the
// warnings of a step are listed first, then its breaches, each in the order they arrived.
const brief = (events: Emitted[]) => {
  const line = (e: Emitted) => (e.topic === 'sla.warnings' ? `warning ${e.data.stage}` : `breach ${e.data.stage} L${e.data.level} ${e.data.notify.join('+')}`);
  return [...events.filter((e) => e.topic === 'sla.warnings'), ...events.filter((e) => e.topic !== 'sla.warnings')].map(line);
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ bus: createTestInProcessBus(), policy, start: T0 });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  // Each test starts at T0 with no clock of an earlier test still running.
  await h.db.pool.query(`UPDATE sla_timer.timers SET state = 'cancelled', due_at = COALESCE(due_at, deadline) WHERE state IN ('pending', 'paused')`);
  h.clock.set(T0);
  h.events.splice(0);
});

async function timerStates(workOrderId: string): Promise<string[]> {
  const { rows } = await h.db.pool.query<{ s: string }>(
    `SELECT stage || ':' || kind || ':' || level || ':' || state AS s FROM sla_timer.timers WHERE work_order_id = $1 ORDER BY stage, level`,
    [workOrderId],
  );
  return rows.map((r) => r.s);
}

describe('sla-timer clocks', () => {
  it('warns, breaches and walks the escalation ladder level by level until the stage is satisfied', async () => {
    const { data } = await h.assign({ openedAt: T0, facts: circle });
    expect(await h.advance(29 * S)).toEqual([]);
    const warning = await h.advance(1 * S);
    expect(brief(warning)).toEqual(['warning ack']);
    expect(warning[0]!.data).toMatchObject({ workOrderId: data.workOrderId, gridId: 'grid-houhu-3', policy: 'circle', remainingMs: 30 * S, late: false });

    const breach = await h.advance(30 * S);
    expect(brief(breach)).toEqual(['breach ack L1 assistant+repair_crew']);
    expect(breach[0]!.data).toMatchObject({ deadline: new Date(T0.getTime() + 60 * S).toISOString(), latenessMs: 0, late: false });
    expect(breach[0]!.event.subject).toBe(data.workOrderId);

    expect(await h.advance(2 * M - 1)).toEqual([]);
    expect(brief(await h.advance(1))).toEqual(['breach ack L2 supervisor']);
    // 4m30s: the arrive warning comes between the ack steps.
    expect(brief(await h.advance(90 * S))).toEqual(['warning arrive']);
    await h.update(data.workOrderId, 'acknowledged');
    expect(brief(await h.advance(30 * S))).toEqual(['breach arrive L1 assistant+repair_crew']);
    // Level 3 of ack would have come at 6 min; the arrive ladder goes on (level 2 at 7 min).
    expect(await h.advance(90 * S)).toEqual([]);
    expect(brief(await h.advance(30 * S))).toEqual(['breach arrive L2 supervisor']);
    expect(await timerStates(data.workOrderId)).toContain('ack:escalation:3:cancelled');
  });

  it('a stage satisfied before its warning produces neither warning nor breach', async () => {
    const { data } = await h.assign({ openedAt: T0, facts: circle });
    await h.advance(10 * S);
    await h.update(data.workOrderId, 'acknowledged');
    expect(brief(await h.advance(4 * M))).toEqual([]);
    expect(brief(await h.advance(1 * M))).toEqual(['warning arrive', 'breach arrive L1 assistant+repair_crew']);
  });

  it('resolved satisfies the stages before it; closed stops everything', async () => {
    const a = await h.assign({ openedAt: T0, facts: circle });
    const b = await h.assign({ openedAt: T0, facts: circle });
    await h.update(a.data.workOrderId, 'resolved');
    await h.update(b.data.workOrderId, 'closed');
    expect(await h.advance(60 * M)).toEqual([]);
    expect((await timerStates(a.data.workOrderId)).every((s) => s.endsWith('cancelled'))).toBe(true);
  });

  it('cancelled stops every clock, including a running escalation ladder', async () => {
    const { data } = await h.assign({ openedAt: T0, facts: circle });
    expect(brief(await h.advance(60 * S))).toEqual(['warning ack', 'breach ack L1 assistant+repair_crew']);
    await h.update(data.workOrderId, 'cancelled');
    expect(await h.advance(60 * M)).toEqual([]);
    const states = await timerStates(data.workOrderId);
    expect(states.filter((s) => s.endsWith('pending') || s.endsWith('paused'))).toEqual([]);
  });

  it('reassigned and en_route keep the clocks', async () => {
    const { data } = await h.assign({ openedAt: T0, facts: circle });
    await h.advance(10 * S);
    await h.update(data.workOrderId, 'reassigned');
    await h.update(data.workOrderId, 'en_route');
    expect(brief(await h.advance(50 * S))).toEqual(['warning ack', 'breach ack L1 assistant+repair_crew']);
  });

  it('suspended pauses every running clock and resumed restarts it with the time that was left', async () => {
    const { data } = await h.assign({ openedAt: T0, facts: circle });
    await h.advance(20 * S);
    await h.update(data.workOrderId, 'suspended');
    expect(await h.advance(3 * 60 * M)).toEqual([]); // three hours waiting for the customer
    const resumedAt = h.clock.now();
    await h.update(data.workOrderId, 'resumed');
    // 40 s were left on the ack clock: warning after 10 s, breach after 40 s.
    expect(await h.advance(10 * S - 1)).toEqual([]);
    expect(brief(await h.advance(1))).toEqual(['warning ack']);
    const [breach] = await h.advance(30 * S);
    expect(breach!.data).toMatchObject({ stage: 'ack', level: 1, deadline: new Date(resumedAt.getTime() + 40 * S).toISOString(), late: false });
  });

  it('suspending after a breach pauses the escalation ladder too', async () => {
    const { data } = await h.assign({ openedAt: T0, facts: circle });
    await h.advance(60 * S); // warning + breach of ack
    await h.advance(30 * S);
    await h.update(data.workOrderId, 'suspended');
    await h.advance(60 * M);
    await h.update(data.workOrderId, 'resumed');
    // Level 2 was 90 s away when suspended.
    expect(await h.advance(90 * S - 1)).toEqual([]);
    const [level2] = await h.advance(1);
    expect(level2!.data).toMatchObject({ stage: 'ack', level: 2, deadline: new Date(T0.getTime() + 60 * S).toISOString() });
    // Level 3 keeps its 3-minute distance from level 2 (the arrive clock runs meanwhile).
    const ack = (events: Emitted[]) => brief(events.filter((e) => e.data.stage === 'ack'));
    expect(ack(await h.advance(3 * M - 1))).toEqual([]);
    expect(ack(await h.advance(1))).toEqual(['breach ack L3 station_head']);
  });

  it('a redelivered or repeated dispatch schedules nothing twice', async () => {
    const first = await h.assign({ openedAt: T0, facts: circle });
    const before = await timerStates(first.data.workOrderId);
    await h.assign({ openedAt: T0, facts: circle, workOrderId: first.data.workOrderId, eventId: first.id }); // same event
    await h.assign({ openedAt: T0, facts: circle, workOrderId: first.data.workOrderId }); // re-dispatched
    expect(await timerStates(first.data.workOrderId)).toEqual(before);
    expect(brief(await h.advance(60 * S))).toEqual(['warning ack', 'breach ack L1 assistant+repair_crew']);
  });

  it('a work-order event that overtakes its dispatch is not forgotten', async () => {
    const workOrderId = crypto.randomUUID();
    await h.update(workOrderId, 'acknowledged');
    await h.assign({ openedAt: T0, facts: circle, workOrderId });
    expect(brief(await h.advance(5 * M))).toEqual(['warning arrive', 'breach arrive L1 assistant+repair_crew']);

    const suspendedFirst = crypto.randomUUID();
    const of = (events: Emitted[]) => brief(events.filter((e) => e.data.workOrderId === suspendedFirst));
    await h.update(suspendedFirst, 'suspended');
    await h.assign({ openedAt: h.clock.now(), facts: circle, workOrderId: suspendedFirst });
    expect(of(await h.advance(60 * M))).toEqual([]);
    await h.update(suspendedFirst, 'resumed');
    expect(of(await h.advance(60 * S))).toEqual(['warning ack', 'breach ack L1 assistant+repair_crew']);
  });
});

describe('sla-timer after downtime', () => {
  it('fires each overdue timer once on start, marked late with the original deadline, skipping nothing', async () => {
    const { data } = await h.assign({ openedAt: T0, facts: circle });
    await h.restart(() => h.clock.advance(6.5 * M)); // down from 10:00 to 10:06:30
    const fired = await h.advance(0);
    expect(brief(fired).sort()).toEqual(
      [
        'warning ack',
        'breach ack L1 assistant+repair_crew',
        'breach ack L2 supervisor',
        'breach ack L3 station_head',
        'warning arrive',
        'breach arrive L1 assistant+repair_crew',
      ].sort(),
    );
    for (const e of fired) expect(e.data.late).toBe(true);
    const ackBreach = fired.find((e) => e.topic === 'sla.breaches' && e.data.stage === 'ack' && e.data.level === 1)!;
    expect(ackBreach.data).toMatchObject({ deadline: new Date(T0.getTime() + 60 * S).toISOString(), latenessMs: 5.5 * M, workOrderId: data.workOrderId });
    expect(await h.advance(0)).toEqual([]);
    // Back on schedule: arrive level 2 at 10:07 is on time.
    const [onTime] = await h.advance(30 * S);
    expect(onTime!.data).toMatchObject({ stage: 'arrive', level: 2, late: false, latenessMs: 2 * M });
  });
});
