import type { SlaPlan } from '@griddispatch/contracts';
import { DEFAULT_POLICY, planFor } from '@griddispatch/sla';
import { describe, expect, it } from 'vitest';
import { escalationLadder, initialTimers, nextEscalation, stagesSatisfiedBy } from './ladder.ts';
import { WALL_CLOCK, workClock } from './work-clock.ts';

const M = 60_000;
const opened = new Date('2026-03-10T07:00:00.000Z'); // Tuesday 15:00 in Shanghai

describe('escalationLadder', () => {
  it('folds the steps due at the breach into level 1 and numbers the rest', () => {
    expect(
      escalationLadder([
        { afterMs: 0, notify: ['assistant', 'repair_crew'] },
        { afterMs: 15 * M, notify: ['supervisor'] },
        { afterMs: 30 * M, notify: ['station_head'] },
      ]),
    ).toEqual([
      { level: 1, afterMs: 0, notify: ['assistant', 'repair_crew'] },
      { level: 2, afterMs: 15 * M, notify: ['supervisor'] },
      { level: 3, afterMs: 30 * M, notify: ['station_head'] },
    ]);
  });

  it('tells the grid manager of a breach when the policy names nobody for it', () => {
    expect(escalationLadder([])).toEqual([{ level: 1, afterMs: 0, notify: ['manager'] }]);
    expect(escalationLadder([{ afterMs: 10 * M, notify: ['supervisor'] }])).toEqual([
      { level: 1, afterMs: 0, notify: ['manager'] },
      { level: 2, afterMs: 10 * M, notify: ['supervisor'] },
    ]);
  });
});

describe('initialTimers', () => {
  const aquaculture = planFor(
    DEFAULT_POLICY,
    { category: 'fault_repair', customerClasses: ['aquaculture'], urgency: 'normal', areaType: 'rural', gridId: 'g' },
    opened,
  );
  const ladder = escalationLadder(aquaculture.escalation);

  it('warns warnBefore ahead of each deadline and breaches at it', () => {
    const timers = initialTimers(aquaculture, ladder, opened, new Set(), WALL_CLOCK);
    expect(timers.map((t) => [t.stage, t.kind, t.level, (t.dueAt.getTime() - opened.getTime()) / M])).toEqual([
      // ack: 5 min window with a 5 min warning — the warning would fire at the dispatch itself.
      ['ack', 'breach', 1, 5],
      ['arrive', 'warning', 0, 25],
      ['arrive', 'breach', 1, 30],
      ['resolve', 'warning', 0, 115],
      ['resolve', 'breach', 1, 120],
    ]);
    expect(timers.find((t) => t.kind === 'breach')!.notify).toEqual(['assistant', 'repair_crew']);
  });

  it('leaves out satisfied stages', () => {
    const timers = initialTimers(aquaculture, ladder, opened, new Set(['ack', 'arrive']), WALL_CLOCK);
    expect(new Set(timers.map((t) => t.stage))).toEqual(new Set(['resolve']));
  });

  it('warns in working time under a calendar', () => {
    const complaint = planFor(
      DEFAULT_POLICY,
      { category: 'complaint', customerClasses: [], urgency: 'normal', areaType: 'urban', gridId: 'g' },
      new Date('2026-03-06T09:00:00.000Z'),
    );
    const clock = workClock(DEFAULT_POLICY.calendars.office!, DEFAULT_POLICY.timeZone);
    const timers = initialTimers(complaint, escalationLadder(complaint.escalation), new Date('2026-03-06T09:00:00.000Z'), new Set(), clock);
    // ack due Monday 17:00; two working hours earlier is Monday 15:00 (07:00 UTC).
    expect(timers.find((t) => t.stage === 'ack' && t.kind === 'warning')!.dueAt.toISOString()).toBe('2026-03-09T07:00:00.000Z');
  });

  it('skips stages the plan does not have', () => {
    const plan: SlaPlan = { policy: 'p', deadlines: { resolve: opened.toISOString() }, warnBeforeMs: null, escalation: [], calendar: null };
    expect(initialTimers(plan, escalationLadder([]), new Date(opened.getTime() - M), new Set(), WALL_CLOCK)).toHaveLength(1);
  });
});

describe('nextEscalation', () => {
  const ladder = escalationLadder([
    { afterMs: 15 * M, notify: ['supervisor'] },
    { afterMs: 30 * M, notify: ['station_head'] },
  ]);

  it('keeps each step at its `after` from the breach', () => {
    const deadline = opened;
    const level2 = nextEscalation(ladder, 1, deadline, WALL_CLOCK)!;
    expect(level2).toEqual({ level: 2, dueAt: new Date(deadline.getTime() + 15 * M), notify: ['supervisor'] });
    expect(nextEscalation(ladder, 2, level2.dueAt, WALL_CLOCK)!.dueAt).toEqual(new Date(deadline.getTime() + 30 * M));
    expect(nextEscalation(ladder, 3, deadline, WALL_CLOCK)).toBeNull();
  });

  it('moves the rest of the ladder when a step was moved by a suspension', () => {
    const movedLevel2 = new Date(opened.getTime() + 15 * M + 60 * M); // suspended for an hour
    expect(nextEscalation(ladder, 2, movedLevel2, WALL_CLOCK)!.dueAt).toEqual(new Date(opened.getTime() + 90 * M));
  });
});

describe('stagesSatisfiedBy', () => {
  it.each([
    ['acknowledged', ['ack']],
    ['arrived', ['ack', 'arrive']],
    ['resolved', ['ack', 'arrive', 'resolve']],
    ['closed', ['ack', 'arrive', 'resolve', 'callback']],
    ['en_route', []],
    ['suspended', []],
  ])('%s → %j', (type, stages) => {
    expect(stagesSatisfiedBy(type)).toEqual(stages);
  });
});
