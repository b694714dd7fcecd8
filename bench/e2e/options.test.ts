import { describe, expect, it } from 'vitest';
import { parseOptions, UsageError } from './options.ts';

describe('parseOptions', () => {
  it('defaults to the rate ladder, and --quick shortens it', () => {
    const full = parseOptions([]);
    expect(full).toMatchObject({
      mode: 'e2e',
      options: { rates: [25, 50, 100, 250, 500, 1000, 2000, 4000], durationMs: 20_000, p99BoundMs: 2000, budgetMs: 300_000 },
    });
    expect(parseOptions(['--quick'])).toMatchObject({ mode: 'e2e', options: { rates: [25, 100], durationMs: 8000, budgetMs: 90_000 } });
  });

  it('takes rates, durations and ignores the "--" pnpm passes through', () => {
    expect(parseOptions(['--', '--rates', '500,1000', '--duration', '30s', '--p99-bound', '5s'])).toMatchObject({
      mode: 'e2e',
      options: { rates: [500, 1000], durationMs: 30_000, p99BoundMs: 5000 },
    });
  });

  it('storm: 100,000 calls in 5 minutes by default, 5,000 in 1 minute with --quick, or as asked', () => {
    expect(parseOptions(['--storm'])).toMatchObject({ mode: 'storm', options: { calls: 100_000, minutes: 5, feeders: 10, scale: 2 } });
    expect(parseOptions(['--storm', '--quick'])).toMatchObject({ mode: 'storm', options: { calls: 5000, minutes: 1 } });
    expect(parseOptions(['--storm', '--calls', '20000', '--minutes', '0.5'])).toMatchObject({
      mode: 'storm',
      options: { calls: 20_000, minutes: 0.5, breachAfterMs: null },
    });
    expect(parseOptions(['--storm', '--calls', '300', '--breach-after', '5s'])).toMatchObject({ mode: 'storm', options: { calls: 300, breachAfterMs: 5000 } });
  });

  it('passes --env to the services', () => {
    expect(parseOptions(['--env', 'NOTIFY_RATE_SMS=unlimited', '--env', 'LOG_LEVEL=info'])).toMatchObject({
      mode: 'e2e',
      options: { serviceEnv: { NOTIFY_RATE_SMS: 'unlimited', LOG_LEVEL: 'info' } },
    });
    expect(() => parseOptions(['--env', 'nope'])).toThrow('NAME=value');
  });

  it('refuses what it cannot honour', () => {
    expect(() => parseOptions(['--rates', '500,abc'])).toThrow(UsageError);
    expect(() => parseOptions(['--rates', '1000,500'])).toThrow('ascending');
    expect(() => parseOptions(['--duration', 'soon'])).toThrow(UsageError);
    expect(() => parseOptions(['--storm', '--rates', '100'])).toThrow('rate ladder');
    expect(() => parseOptions(['--calls', '10'])).toThrow('--storm');
    expect(() => parseOptions(['--storm', '--calls', '-5'])).toThrow(UsageError);
  });
});
