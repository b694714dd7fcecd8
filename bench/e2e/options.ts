import { parseArgs } from 'node:util';
import { parseDuration } from '@griddispatch/sla';

// Command-line options of `pnpm bench:e2e` and of its storm scenario (`pnpm bench:e2e -- --storm`).

export const USAGE = `usage: pnpm bench:e2e [--rates 25,50,100,…] [--duration 20s] [--quick] [--p99-bound 2s]
       pnpm bench:e2e -- --storm [--calls 100000] [--minutes 5] [--feeders 10] [--scale 2] [--breach-after D] [--quick]

Rate ladder (default): the distributed stack (Kafka + PostgreSQL + the four services as separate
processes) under open-loop load of 95598 work orders at each rate until saturation; yardsticks
(bare Fastify + autocannon, kafka-producer-perf-test) in the same run. Results in bench/results/.

  --rates R,R,…      offered rates in requests/s (default 25,50,100,250,500,1000,2000,4000: the
                     issue's 500, 1000, 2000… with lower rungs, since a 2-core machine running
                     Kafka, PostgreSQL and four services saturates well below 500/s)
  --duration D       per rate (default 20s; --quick 8s)
  --warmup D         load at the first rate before measuring, not reported (default 5s;
                     --quick 3s; 0 for none)
  --wait D           after a rate's last request, how long to wait for its dispatches and
                     breaches (default 30s; --quick 10s); what is still missing then is censored
  --p99-bound D      a rate whose POST→dispatch p99 is above this is saturated (default 2s)
  --breach-after D   the SLA ack window of fault calls, so breaches happen during the run (default 3s)
  --budget D         stop climbing when the next rate would not fit (default 5m; --quick 90s)
  --scale N          copies of the sample county (default 1)
  --quick            a short run: rates 25,100, 8 s each, short yardsticks (≤ 90 s in all)
  --env NAME=value   extra environment for every service, repeatable (e.g. --env NOTIFY_RATE_SMS=unlimited
                     to see what a setting costs); recorded in the results

Storm (--storm): N fault calls in M minutes (open loop, N/(60·M) per second) clustered on the
台区 of F feeders, then: every call accounted for (once on dispatch.assigned or
dispatch.unroutable), incidents, SLA timers created and breaches emitted (in all and per
incident, read from the databases and topics at the end), and the time to drain the backlog.

  --calls N          default 100000 (--quick 5000)
  --minutes M        default 5 (--quick 1)
  --feeders F        default 10 (the sample county ×2 has 16)
  --scale N          default 2
  --breach-after D   give fault calls this ack window so breaches fire during the run (default:
                     the built-in policy, whose windows outlast a storm of minutes)
  --drain-timeout D  give up waiting for the drain after this (default 20m)
`;

export class UsageError extends Error {}

function duration(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  try {
    const ms = parseDuration(text);
    if (ms <= 0) throw new Error('must be longer than 0');
    return ms;
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

function positive(name: string, text: string | undefined, fallback: number, integer = true): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${text}"`);
  return n;
}

export interface E2eOptions {
  rates: number[];
  durationMs: number;
  /** Load at the first rate before measuring, not reported. */
  warmupMs: number;
  waitMs: number;
  p99BoundMs: number;
  breachAfterMs: number;
  budgetMs: number;
  scale: number;
  quick: boolean;
  helloSeconds: number;
  producerRecords: number;
  /** Extra environment for every service (`--env NAME=value`, repeatable). */
  serviceEnv: Record<string, string>;
}

export interface StormOptions {
  calls: number;
  minutes: number;
  feeders: number;
  scale: number;
  drainTimeoutMs: number;
  /** The ack window of fault calls (bench policy), or null for the built-in policy. */
  breachAfterMs: number | null;
  quick: boolean;
  serviceEnv: Record<string, string>;
}

export type Parsed = { mode: 'help' } | { mode: 'e2e'; options: E2eOptions } | { mode: 'storm'; options: StormOptions };

export function parseOptions(argv: string[]): Parsed {
  try {
    return interpret(argv);
  } catch (err) {
    // node:util parseArgs throws TypeErrors for unknown options and missing values.
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
}

function interpret(argv: string[]): Parsed {
  const { values, positionals } = parseArgs({
    args: argv.filter((a) => a !== '--'),
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      quick: { type: 'boolean' },
      storm: { type: 'boolean' },
      rates: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      wait: { type: 'string' },
      'p99-bound': { type: 'string' },
      'breach-after': { type: 'string' },
      budget: { type: 'string' },
      scale: { type: 'string' },
      calls: { type: 'string' },
      minutes: { type: 'string' },
      feeders: { type: 'string' },
      'drain-timeout': { type: 'string' },
      env: { type: 'string', multiple: true },
    },
  });
  if (values.help) return { mode: 'help' };
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const quick = values.quick ?? false;
  const serviceEnv: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(pair);
    if (!m) throw new UsageError(`--env takes NAME=value, got "${pair}"`);
    serviceEnv[m[1]!] = m[2]!;
  }
  if (values.storm) {
    for (const flag of ['rates', 'duration', 'warmup', 'wait', 'p99-bound', 'budget'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} belongs to the rate ladder, not to --storm`);
    }
    return {
      mode: 'storm',
      options: {
        calls: positive('calls', values.calls, quick ? 5_000 : 100_000),
        minutes: positive('minutes', values.minutes, quick ? 1 : 5, false),
        feeders: positive('feeders', values.feeders, 10),
        scale: positive('scale', values.scale, 2),
        drainTimeoutMs: duration('drain-timeout', values['drain-timeout'], 20 * 60_000),
        breachAfterMs: values['breach-after'] === undefined ? null : duration('breach-after', values['breach-after'], 0),
        quick,
        serviceEnv,
      },
    };
  }
  for (const flag of ['calls', 'minutes', 'feeders', 'drain-timeout'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} belongs to --storm`);
  }
  const rates =
    values.rates === undefined
      ? quick
        ? [25, 100]
        : [25, 50, 100, 250, 500, 1000, 2000, 4000]
      : values.rates.split(',').map((r) => positive('rates', r.trim(), 0, false));
  if ([...rates].sort((a, b) => a - b).join() !== rates.join()) throw new UsageError('--rates must be ascending');
  return {
    mode: 'e2e',
    options: {
      rates,
      durationMs: duration('duration', values.duration, quick ? 8_000 : 20_000),
      warmupMs: values.warmup === '0' ? 0 : duration('warmup', values.warmup, quick ? 3_000 : 5_000),
      waitMs: duration('wait', values.wait, quick ? 10_000 : 30_000),
      p99BoundMs: duration('p99-bound', values['p99-bound'], 2_000),
      breachAfterMs: duration('breach-after', values['breach-after'], 3_000),
      budgetMs: duration('budget', values.budget, quick ? 90_000 : 300_000),
      scale: positive('scale', values.scale, 1),
      quick,
      helloSeconds: quick ? 3 : 10,
      producerRecords: quick ? 100_000 : 500_000,
      serviceEnv,
    },
  };
}
