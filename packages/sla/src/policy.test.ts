import { describe, expect, it } from 'vitest';
import { PolicyError, parsePolicy } from './policy.ts';

const minimal = { rules: [{ name: 'default', match: {}, windows: { ack: '30m' } }] };

function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    parsePolicy(input);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as PolicyError).issues;
  }
  throw new Error('expected the policy to be rejected');
}

describe('parsePolicy', () => {
  it('accepts the policy example of docs/architecture.md#sla-policy and fills defaults', () => {
    const policy = parsePolicy({
      timeZone: 'Asia/Shanghai',
      calendars: { office: { days: [1, 2, 3, 4, 5], hours: ['08:30-12:00', '14:00-17:30'], holidays: ['2026-10-01'] } },
      rules: [
        {
          name: 'aquaculture-circle',
          match: { category: ['fault_repair'], customerClass: ['aquaculture'] },
          windows: { ack: '5m', arrive: '30m', resolve: '2h' },
          warnBefore: '5m',
          escalation: [
            { after: '0s', notify: ['assistant', 'repair_crew'] },
            { after: '15m', notify: ['supervisor'] },
          ],
        },
        { name: 'new-connection', match: { category: ['new_connection'] }, windows: { ack: '1h', resolve: '8h' }, calendar: 'office' },
        { name: 'default', match: {}, windows: { ack: '30m', resolve: '24h' } },
      ],
    });
    expect(policy.rules.map((r) => r.name)).toEqual(['aquaculture-circle', 'new-connection', 'default']);
    expect(policy.rules[2]!.escalation).toEqual([]);
    expect(policy.calendars.office!.workdays).toEqual([]);
  });

  it('reads JSON text and defaults the time zone to Asia/Shanghai', () => {
    expect(parsePolicy(JSON.stringify(minimal)).timeZone).toBe('Asia/Shanghai');
  });

  it('reports broken JSON as such', () => {
    expect(() => parsePolicy('{"rules": [', 'policy.json')).toThrow(/invalid SLA policy policy\.json:\n {2}- \(root\): not valid JSON/);
  });

  it.each([
    [
      'a bad duration, by rule index and name',
      { rules: [{ name: 'fast', windows: { ack: '5 min' } }, minimal.rules[0]] },
      'rules[0] "fast".windows.ack',
      /invalid duration "5 min"/,
    ],
    [
      'an unknown category',
      { rules: [{ name: 'x', match: { category: ['fault-repair'] }, windows: { ack: '5m' } }, minimal.rules[0]] },
      'rules[0] "x".match.category[0]',
      /fault_repair/,
    ],
    [
      'an unknown role',
      { rules: [{ name: 'd', windows: { ack: '5m' }, escalation: [{ after: '0s', notify: ['boss'] }] }] },
      'rules[0] "d".escalation[0].notify[0]',
      /supervisor/,
    ],
    ['no window', { rules: [{ name: 'd', windows: {} }] }, 'rules[0] "d".windows', /at least one window/],
    ['an unknown stage', { rules: [{ name: 'd', windows: { ack: '5m', visit: '1h' } }] }, 'rules[0] "d".windows', /visit/],
    ['a typo in a rule key', { rules: [{ name: 'd', windows: { ack: '5m' }, warnbefore: '1m' }] }, 'rules[0] "d"', /warnbefore/],
    [
      'an empty match list',
      { rules: [{ name: 'd', match: { urgency: [] }, windows: { ack: '5m' } }, minimal.rules[0]] },
      'rules[0] "d".match.urgency',
      /at least one value/,
    ],
    ['an unknown time zone', { timeZone: 'Asia/Peking', ...minimal }, 'timeZone', /unknown time zone "Asia\/Peking"/],
    ['bad hours', { calendars: { office: { hours: ['8:30-12:00'] } }, ...minimal }, 'calendars.office.hours[0]', /HH:MM-HH:MM/],
    ['hours ending before they start', { calendars: { office: { hours: ['14:00-12:00'] } }, ...minimal }, 'calendars.office.hours[0]', /end must be after/],
    [
      'an impossible holiday',
      { calendars: { office: { hours: ['08:30-12:00'], holidays: ['2026-02-30'] } }, ...minimal },
      'calendars.office.holidays[0]',
      /YYYY-MM-DD/,
    ],
    ['overlapping hours', { calendars: { office: { hours: ['08:00-12:00', '11:00-13:00'] } }, ...minimal }, 'calendars.office', /overlap/],
    ['a calendar without days', { calendars: { office: { days: [], hours: ['08:00-12:00'] } }, ...minimal }, 'calendars.office', /no working days/],
    ['an unknown calendar', { rules: [{ name: 'd', windows: { ack: '5m' }, calendar: 'office' }] }, 'rules[0] "d".calendar', /unknown calendar "office"/],
    [
      'duplicate names',
      {
        rules: [
          { name: 'd', match: { urgency: ['critical'] }, windows: { ack: '5m' } },
          { name: 'd', windows: { ack: '5m' } },
        ],
      },
      'rules[1] "d".name',
      /duplicate rule name \(also rules\[0\]\)/,
    ],
    ['no catch-all rule', { rules: [{ name: 'x', match: { urgency: ['critical'] }, windows: { ack: '5m' } }] }, 'rules', /must match everything/],
    [
      'a rule after the catch-all',
      { rules: [minimal.rules[0], { name: 'late', match: { urgency: ['critical'] }, windows: { ack: '1m' } }] },
      'rules[1] "late"',
      /never used: rules\[0\] "default"/,
    ],
    [
      'escalation out of order',
      {
        rules: [
          {
            name: 'd',
            windows: { ack: '5m' },
            escalation: [
              { after: '30m', notify: ['supervisor'] },
              { after: '15m', notify: ['station_head'] },
            ],
          },
        ],
      },
      'rules[0] "d".escalation[1].after',
      /in order/,
    ],
    ['no rules', { rules: [] }, 'rules', /at least one rule/],
  ])('names the place of %s', (_what, input, path, message) => {
    const issues = issuesOf(input);
    const issue = issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it('lists every field problem at once, in a readable message', () => {
    let message = '';
    try {
      parsePolicy({ rules: [{ name: 'a', windows: { ack: 'soon', resolve: '1 day' } }] });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('rules[0] "a".windows.ack: invalid duration "soon"');
    expect(message).toContain('rules[0] "a".windows.resolve: invalid duration "1 day"');
  });

  it('reads weekday 0 as Sunday and accepts 24:00 as the end of the day', () => {
    const policy = parsePolicy({ calendars: { always: { days: [0, 1, 2, 3, 4, 5, 6], hours: ['00:00-24:00'] } }, ...minimal });
    expect(policy.calendars.always!.hours).toEqual(['00:00-24:00']);
  });
});
