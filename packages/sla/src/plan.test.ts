import { readFileSync } from 'node:fs';
import { SlaPlan } from '@griddispatch/contracts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from './default-policy.ts';
import { durationMs, matchRule, planFor, type SlaFacts } from './plan.ts';
import { parsePolicy } from './policy.ts';

const M = 60_000;
const H = 3_600_000;
const sh = (local: string): Date => new Date(`${local}+08:00`);

const base: SlaFacts = { category: 'fault_repair', customerClasses: [], urgency: 'normal', areaType: 'urban', gridId: 'g-houhu-3' };
const facts = (over: Partial<SlaFacts>): SlaFacts => ({ ...base, ...over });

/** Deadlines as offsets from the opening, for readable tables. */
function offsets(plan: SlaPlan, openedAt: Date): Record<string, number> {
  return Object.fromEntries(Object.entries(plan.deadlines).map(([stage, iso]) => [stage, new Date(iso).getTime() - openedAt.getTime()]));
}

describe('DEFAULT_POLICY', () => {
  it('is policies/default.json', () => {
    const file = readFileSync(new URL('../policies/default.json', import.meta.url), 'utf8');
    expect(parsePolicy(file)).toEqual(DEFAULT_POLICY);
    expect(DEFAULT_POLICY.timeZone).toBe('Asia/Shanghai');
  });

  // A weekday afternoon, inside office hours, so clock and working time can be told apart below.
  const opened = sh('2026-03-10T15:00');

  it.each([
    [
      'aquaculture fault: the 30-minute circle',
      facts({ customerClasses: ['resident', 'aquaculture'], areaType: 'rural' }),
      'aquaculture-circle',
      { ack: 5 * M, arrive: 30 * M, resolve: 2 * H },
    ],
    [
      'aquaculture before cold storage when both',
      facts({ customerClasses: ['cold_storage', 'aquaculture'] }),
      'aquaculture-circle',
      { ack: 5 * M, arrive: 30 * M, resolve: 2 * H },
    ],
    [
      'cold-storage outage at most 2 h',
      facts({ customerClasses: ['cold_storage'], areaType: 'remote' }),
      'cold-storage-outage',
      { ack: 5 * M, arrive: 45 * M, resolve: 2 * H },
    ],
    [
      'important customer tighter than the area',
      facts({ customerClasses: ['important'], areaType: 'rural' }),
      'important-customer-fault',
      { ack: 5 * M, arrive: 30 * M, resolve: 3 * H },
    ],
    [
      'critical urgency tighter than the area',
      facts({ urgency: 'critical', areaType: 'remote' }),
      'critical-fault',
      { ack: 5 * M, arrive: 30 * M, resolve: 3 * H },
    ],
    ['urban fault: 45 min, then 3 h', facts({ areaType: 'urban' }), 'fault-urban', { ack: 10 * M, arrive: 45 * M, resolve: 45 * M + 3 * H }],
    ['rural fault: 90 min, then 4 h', facts({ areaType: 'rural' }), 'fault-rural', { ack: 10 * M, arrive: 90 * M, resolve: 90 * M + 4 * H }],
    ['remote fault: 120 min, then 4 h', facts({ areaType: 'remote', urgency: 'urgent' }), 'fault-remote', { ack: 10 * M, arrive: 2 * H, resolve: 6 * H }],
    ['billing for a fish farm is not an outage', facts({ category: 'billing', customerClasses: ['aquaculture'] }), 'default', { ack: 30 * M, resolve: 24 * H }],
    ['consultation', facts({ category: 'consultation' }), 'default', { ack: 30 * M, resolve: 24 * H }],
  ])('%s', (_what, f, rule, expected) => {
    const plan = planFor(DEFAULT_POLICY, f, opened);
    expect(plan.policy).toBe(rule);
    expect(plan.calendar).toBeNull();
    expect(offsets(plan, opened)).toEqual(expected);
  });

  it('aquaculture escalation: assistant and crew at the breach, then supervisor, then station head', () => {
    const plan = planFor(DEFAULT_POLICY, facts({ customerClasses: ['aquaculture'] }), opened);
    expect(plan.warnBeforeMs).toBe(5 * M);
    expect(plan.escalation).toEqual([
      { afterMs: 0, notify: ['assistant', 'repair_crew'] },
      { afterMs: 15 * M, notify: ['supervisor'] },
      { afterMs: 30 * M, notify: ['station_head'] },
    ]);
  });

  it('new connection: survey within a working day, connected within 5 working days', () => {
    const plan = planFor(DEFAULT_POLICY, facts({ category: 'new_connection', customerClasses: ['resident'] }), sh('2026-03-10T15:00'));
    expect(plan).toEqual({
      policy: 'new-connection',
      calendar: 'office',
      deadlines: {
        ack: sh('2026-03-10T17:00').toISOString(),
        arrive: sh('2026-03-11T15:00').toISOString(),
        resolve: sh('2026-03-17T15:00').toISOString(),
      },
      warnBeforeMs: 2 * H,
      escalation: [
        { afterMs: 0, notify: ['supervisor'] },
        { afterMs: 7 * H, notify: ['station_head'] },
      ],
    });
  });

  it('new connection requested before National Day is due after the holiday week', () => {
    const plan = planFor(DEFAULT_POLICY, facts({ category: 'new_connection' }), sh('2026-09-29T10:00'));
    // Tue 29, Wed 30, then 1–7 October off, Thu 8, Fri 9, Sat 10 (make-up day), Mon 12.
    expect(plan.deadlines.resolve).toBe(sh('2026-10-12T10:00').toISOString());
  });

  it('complaint on Friday at 17:00: first contact due on Monday', () => {
    const plan = planFor(DEFAULT_POLICY, facts({ category: 'complaint' }), sh('2026-03-06T17:00'));
    expect(plan.policy).toBe('complaint');
    expect(plan.deadlines.ack).toBe(sh('2026-03-09T17:00').toISOString());
    expect(plan.deadlines.resolve).toBe(sh('2026-03-13T17:00').toISOString());
  });

  it('produces the contracts SlaPlan with UTC ISO deadlines', () => {
    for (const f of [facts({}), facts({ category: 'complaint' }), facts({ customerClasses: ['aquaculture'] })]) {
      const plan = planFor(DEFAULT_POLICY, f, opened);
      expect(SlaPlan.parse(plan)).toEqual(plan);
      for (const iso of Object.values(plan.deadlines)) expect(iso).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
  });
});

describe('matchRule', () => {
  const policy = parsePolicy({
    rules: [
      { name: 'pilot-grid', match: { gridId: ['g-7'], category: ['fault_repair'] }, windows: { ack: '1m' } },
      { name: 'vulnerable-or-important', match: { customerClass: ['vulnerable', 'important'] }, windows: { ack: '2m' } },
      { name: 'urgent-rural', match: { urgency: ['urgent', 'critical'], areaType: ['rural'] }, windows: { ack: '3m' } },
      { name: 'rest', match: {}, windows: { ack: '4m' } },
    ],
  });

  it.each([
    ['all given keys must hold', facts({ gridId: 'g-7' }), 'pilot-grid'],
    ['one key failing skips the rule', facts({ gridId: 'g-7', category: 'billing' }), 'rest'],
    ['any of the customer classes', facts({ customerClasses: ['resident', 'important'] }), 'vulnerable-or-important'],
    ['the first match wins over later ones', facts({ gridId: 'g-7', customerClasses: ['vulnerable'] }), 'pilot-grid'],
    ['lists are alternatives', facts({ urgency: 'critical', areaType: 'rural' }), 'urgent-rural'],
    ['every key must hold', facts({ urgency: 'critical', areaType: 'urban' }), 'rest'],
    ['no classes', facts({ customerClasses: [] }), 'rest'],
  ])('%s', (_what, f, name) => {
    expect(matchRule(policy, f).name).toBe(name);
  });
});

describe('durations in plans', () => {
  it('counts a day as 24 h on the clock and as one working day under a calendar', () => {
    const office = DEFAULT_POLICY.calendars.office!;
    expect(durationMs('1d', null)).toBe(24 * H);
    expect(durationMs('1d', office)).toBe(7 * H);
    expect(durationMs('1d30m', office)).toBe(7.5 * H);
  });

  it('windows in seconds for tests', () => {
    const policy = parsePolicy({
      rules: [
        {
          name: 'fast',
          windows: { ack: '2s', resolve: '5s' },
          warnBefore: '1s',
          escalation: [
            { after: '0s', notify: ['supervisor'] },
            { after: '2s', notify: ['station_head'] },
          ],
        },
      ],
    });
    const at = new Date('2026-03-10T07:00:00.000Z');
    const plan = planFor(policy, base, at);
    expect(plan.deadlines).toEqual({ ack: '2026-03-10T07:00:02.000Z', resolve: '2026-03-10T07:00:05.000Z' });
    expect(plan.warnBeforeMs).toBe(1000);
    expect(plan.escalation.map((s) => s.afterMs)).toEqual([0, 2000]);
  });
});
