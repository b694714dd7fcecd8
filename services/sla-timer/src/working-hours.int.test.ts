import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '@griddispatch/sla';
import { createTestInProcessBus } from '@griddispatch/testkit';
import { startHarness, type Emitted, type Harness } from './testing/harness.ts';

// Windows that count working hours only (the built-in policy's office calendar, Asia/Shanghai,
// 08:30–12:00 and 14:00–17:30 on working days, 2026 holidays and make-up days).

const sh = (local: string): Date => new Date(`${local}+08:00`);
const complaint = { category: 'complaint' as const };
// Warnings and breaches travel on two topics with no order between them: warnings first.
const brief = (events: Emitted[]) =>
  [...events.filter((e) => e.topic === 'sla.warnings'), ...events.filter((e) => e.topic !== 'sla.warnings')].map((e) =>
    e.topic === 'sla.warnings' ? `warning ${e.data.stage}` : `breach ${e.data.stage} L${e.data.level}`,
  );

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ bus: createTestInProcessBus(), policy: DEFAULT_POLICY, start: sh('2026-03-06T17:00') });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  await h.db.pool.query(`UPDATE sla_timer.timers SET state = 'cancelled', due_at = COALESCE(due_at, deadline) WHERE state IN ('pending', 'paused')`);
  h.events.splice(0);
});

/** Moves the clock to a local Shanghai time and fires what is due. */
async function at(local: string): Promise<string[]> {
  return brief(await h.advance(sh(local).getTime() - h.clock.now().getTime()));
}

describe('working-hours windows', () => {
  it('a one-working-day window opened on Friday at 17:00 ends on the next working day', async () => {
    h.clock.set(sh('2026-03-06T17:00'));
    await h.assign({ openedAt: sh('2026-03-06T17:00'), facts: complaint });
    expect(await at('2026-03-08T23:59')).toEqual([]); // the weekend counts nothing
    expect(await at('2026-03-09T14:59')).toEqual([]);
    // Warned two working hours ahead, breached at Monday 17:00.
    expect(await at('2026-03-09T15:00')).toEqual(['warning ack']);
    const breach = await h.advance(sh('2026-03-09T17:00').getTime() - h.clock.now().getTime());
    expect(brief(breach)).toEqual(['breach ack L1']);
    expect(breach[0]!.data).toMatchObject({ deadline: sh('2026-03-09T17:00').toISOString(), notify: ['supervisor'], late: false });
    // The next step is 4 working hours after the breach: Tuesday 12:00, not Monday 21:00.
    expect(await at('2026-03-10T11:59')).toEqual([]);
    expect(await at('2026-03-10T12:00')).toEqual(['breach ack L2']);
  });

  it('skips the National Day holiday week', async () => {
    h.clock.set(sh('2026-09-30T17:00'));
    await h.assign({ openedAt: sh('2026-09-30T17:00'), facts: complaint });
    expect(await at('2026-10-07T23:00')).toEqual([]);
    expect(await at('2026-10-08T17:00')).toEqual(['warning ack', 'breach ack L1']);
  });

  it('a suspension keeps the working time that was left', async () => {
    h.clock.set(sh('2026-03-06T16:00'));
    const { data } = await h.assign({ openedAt: sh('2026-03-06T16:00'), facts: complaint });
    // Suspended at 17:00 on Friday with 6 of the 7 working hours left.
    h.clock.set(sh('2026-03-06T17:00'));
    await h.update(data.workOrderId, 'suspended');
    expect(await at('2026-03-09T10:00')).toEqual([]); // the original deadline, Monday 16:00, passes
    await h.update(data.workOrderId, 'resumed');
    // From Monday 10:00: 2 h to noon, 3.5 h in the afternoon, 0.5 h on Tuesday → 09:00.
    expect(await at('2026-03-10T08:59')).toEqual(['warning ack']);
    const [breach] = await h.advance(sh('2026-03-10T09:00').getTime() - h.clock.now().getTime());
    expect(breach!.data).toMatchObject({ stage: 'ack', level: 1, deadline: sh('2026-03-10T09:00').toISOString() });
  });
});
