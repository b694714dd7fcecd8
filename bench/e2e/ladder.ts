import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { generateSampleCounty } from '@griddispatch/grid';
import { createCallSource, type CallSource } from './calls.ts';
import { consumerLag, kafkaClient, OutputWatcher, wallNow, type DispatchSeen, type GroupLag } from './kafka.ts';
import { createPoster, runOpenLoop, type Poster, type PostResult } from './load.ts';
import type { E2eOptions } from './options.ts';
import { findPids, ProcSampler, type WindowUsage } from './procstat.ts';
import { machineInfo } from './results.ts';
import { startStack, type Stack } from './stack.ts';
import { distribution, formatMs, saturationVerdict, type Distribution, type StepVerdict } from './stats.ts';
import { helloYardstick, producerPerfYardstick, type HelloResult, type ProducerPerfResult } from './yardsticks.ts';
import type { Admin } from 'kafkajs';

// The rate ladder: one stack, one rate after another until saturation, every request followed
// from its POST to its dispatch (and, for fault calls, to its SLA breach) by id.

export const BREACH_RULE = 'bench-fault-ack';

/** A call whose ack window the bench policy makes breach: a fault call with clocks of its own (a merged call of an incident has none). */
const timed = (d: DispatchSeen) => d.policy === BREACH_RULE && d.ackDeadline !== null && d.role !== 'merged';

/** Fault calls breach their ack window a few seconds after they arrive (nobody acknowledges). */
export function benchPolicy(breachAfterMs: number): object {
  return {
    timeZone: 'Asia/Shanghai',
    rules: [
      {
        name: BREACH_RULE,
        description: 'bench/e2e: fault calls breach ack within the run',
        match: { category: ['fault_repair'] },
        windows: { ack: `${Math.round(breachAfterMs / 1000)}s`, resolve: '1h' },
      },
      { name: 'bench-default', match: {}, windows: { ack: '1h', resolve: '24h' } },
    ],
  };
}

export interface StepResult {
  offeredPerSecond: number;
  durationSeconds: number;
  requests: { planned: number; sent: number; accepted: number; duplicates: number; errors: number; errorsByStatus: Record<string, number>; unanswered: number };
  /** 202s per second over the sending window. */
  acceptedPerSecond: number;
  /** Due time → 202 received (ms). */
  http: Distribution;
  dispatch: {
    assigned: number;
    unroutable: number;
    /** Records beyond the first for one request id (at-least-once shows up here). */
    duplicateRecords: number;
    missing: number;
    /** Due time → record received by the benchmark's consumer (ms). */
    latency: Distribution;
    /** Due time → the event's CloudEvent `time` (grid-routing's decision, before outbox and Kafka). */
    latencyToEventTime: Distribution;
  };
  /** Dispatches per second from the first due time to the last dispatch (or the end of the wait). */
  achievedPerSecond: number;
  breaches: {
    expected: number;
    observed: number;
    duplicateRecords: number;
    /** Breach record received here − its deadline (ms). */
    lateness: Distribution;
    /** sla-timer's own `latenessMs` when it fired. */
    firedLateness: Distribution;
  };
  lag: { afterSend: GroupLag[]; afterWait: GroupLag[] };
  /**
   * Transactions (pg_stat_database.xact_commit: read-only statements outside a transaction count
   * too; flushed by PostgreSQL with up to a few seconds' delay) in this run's database, per accepted
   * request, and on the whole server per second (other work on the machine included).
   */
  postgres: { transactions: number; transactionsPerAcceptedRequest: number | null; serverTransactionsPerSecond: number };
  usage: WindowUsage;
  /** This process's event-loop delay p99 during the step: the measuring error of receipt times. */
  benchLoopDelayP99Ms: number;
  waitedSeconds: number;
  verdict: StepVerdict;
}

const sumLag = (lags: GroupLag[]) => lags.reduce((s, g) => s + g.total, 0);

interface Ctx {
  stack: Stack;
  pgStats: pg.Client;
  watcher: OutputWatcher;
  admin: Admin;
  poster: Poster;
  calls: CallSource;
  sampler: ProcSampler;
  options: E2eOptions;
  watcherGroup: string;
  say: (line: string) => void;
}

async function lagNow(ctx: Ctx): Promise<GroupLag[]> {
  return consumerLag(ctx.admin, ctx.stack.prefix, [ctx.watcherGroup]);
}

async function transactionCounts(ctx: Ctx): Promise<{ ours: number; all: number }> {
  const { rows } = await ctx.pgStats.query<{ ours: string | null; total: string | null }>(
    'SELECT sum(xact_commit) FILTER (WHERE datname = $1) AS ours, sum(xact_commit) AS total FROM pg_stat_database',
    [ctx.stack.database],
  );
  return { ours: Number(rows[0]?.ours ?? 0), all: Number(rows[0]?.total ?? 0) };
}

async function runStep(ctx: Ctx, rate: number): Promise<StepResult> {
  const { options, watcher, say } = ctx;
  const count = Math.max(1, Math.floor((rate * options.durationMs) / 1000));
  const due: number[] = new Array<number>(count).fill(0);
  const results: (PostResult | undefined)[] = new Array<PostResult | undefined>(count).fill(undefined); // no holes: filter() skips holes
  let inFlight = 0;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const txBefore = await transactionCounts(ctx);
  const stepStart = wallNow() + 100;
  const label = `${rate}/s`;
  const progress = (phase: string) => {
    const a = results.filter((r): r is PostResult => r !== undefined);
    const ids = a.filter((r) => r.status === 202 && r.id).map((r) => r.id!);
    const dispatched = ids.filter((id) => watcher.dispatches.has(id)).length;
    say(
      `  ${label} ${phase} ${((wallNow() - stepStart) / 1000).toFixed(0)}s: sent ${a.length + inFlight} · accepted ${ids.length} · errors ${a.length - a.filter((r) => r.status === 202).length} · in flight ${inFlight} · dispatched ${dispatched}`,
    );
  };

  await runOpenLoop({
    ratePerSecond: rate,
    count,
    startAt: stepStart,
    tickMs: 5000,
    onTick: () => progress('sending'),
    send: (i, dueAt) => {
      due[i] = dueAt;
      inFlight += 1;
      void ctx.poster.post(ctx.calls.next(new Date(dueAt)), dueAt).then((r) => {
        results[i] = r;
        inFlight -= 1;
      });
    },
  });
  const sendEnd = wallNow();
  const sendWindowMs = Math.max(sendEnd, stepStart + options.durationMs) - stepStart;
  const afterSend = await lagNow(ctx);

  // Wait for the answers, the dispatches and the breaches due — bounded.
  const waitUntil = sendEnd + options.waitMs;
  let lastReport = wallNow();
  const outstanding = () => {
    let undispatched = 0;
    let unbreached = 0;
    for (const r of results) {
      if (r?.status !== 202 || !r.id) continue;
      const d = watcher.dispatches.get(r.id);
      if (!d) undispatched += 1;
      else if (timed(d) && !watcher.breaches.has(`${r.id}:ack:1`)) unbreached += 1;
    }
    return { undispatched, unbreached };
  };
  for (;;) {
    const o = outstanding();
    if (inFlight === 0 && o.undispatched === 0 && o.unbreached === 0) break;
    if (wallNow() >= waitUntil) break;
    if (wallNow() - lastReport >= 5000) {
      lastReport = wallNow();
      say(`  ${label} waiting: ${inFlight} answers, ${o.undispatched} dispatches, ${o.unbreached} breaches outstanding`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const waitEnd = wallNow();
  loop.disable();
  const afterWait = await lagNow(ctx);
  const usage = ctx.sampler.window(stepStart, waitEnd);
  const txAfter = await transactionCounts(ctx);

  // --- numbers -----------------------------------------------------------------------------
  const errorsByStatus: Record<string, number> = {};
  const httpMs: number[] = [];
  const dispatchMs: number[] = [];
  const eventMs: number[] = [];
  const lateMs: number[] = [];
  const firedMs: number[] = [];
  let acceptedCount = 0;
  let duplicates = 0;
  let assigned = 0;
  let unroutable = 0;
  let duplicateRecords = 0;
  let missing = 0;
  let expected = 0;
  let observed = 0;
  let breachDuplicates = 0;
  let lastDispatch = stepStart;
  for (let i = 0; i < count; i++) {
    const r = results[i];
    if (!r) continue;
    if (r.status !== 202 || !r.id) {
      errorsByStatus[String(r.status)] = (errorsByStatus[String(r.status)] ?? 0) + 1;
      continue;
    }
    httpMs.push(r.latencyMs);
    if (r.duplicate) duplicates += 1;
    acceptedCount += 1;
    const d = watcher.dispatches.get(r.id);
    if (!d) {
      missing += 1;
      continue;
    }
    if (d.kind === 'assigned') assigned += 1;
    else unroutable += 1;
    duplicateRecords += d.count - 1;
    dispatchMs.push(d.at - due[i]!);
    eventMs.push(d.eventTime - due[i]!);
    lastDispatch = Math.max(lastDispatch, d.at);
    if (timed(d)) {
      expected += 1;
      const b = watcher.breaches.get(`${r.id}:ack:1`);
      if (b) {
        observed += 1;
        breachDuplicates += b.count - 1;
        lateMs.push(b.at - b.deadline);
        firedMs.push(b.firedLatenessMs);
      }
    }
  }
  const unanswered = results.filter((r) => r === undefined).length;
  const errors = count - unanswered - acceptedCount;
  const dispatchedCount = assigned + unroutable;
  const achievedWindow = (missing > 0 ? waitEnd : lastDispatch) - stepStart;
  const latency = distribution(dispatchMs, missing + unanswered);
  const achievedPerSecond = Math.round((dispatchedCount / Math.max(1, achievedWindow)) * 1000 * 10) / 10;
  const verdict = saturationVerdict(
    { offeredPerSecond: rate, achievedPerSecond, dispatchP99Ms: latency.p99, requests: count, errors: errors + unanswered },
    options.p99BoundMs,
  );
  return {
    offeredPerSecond: rate,
    durationSeconds: options.durationMs / 1000,
    requests: { planned: count, sent: count, accepted: acceptedCount, duplicates, errors, errorsByStatus, unanswered },
    acceptedPerSecond: Math.round((acceptedCount / sendWindowMs) * 1000 * 10) / 10,
    http: distribution(httpMs, unanswered),
    dispatch: {
      assigned,
      unroutable,
      duplicateRecords,
      missing,
      latency,
      latencyToEventTime: distribution(eventMs, missing + unanswered),
    },
    achievedPerSecond,
    breaches: {
      expected,
      observed,
      duplicateRecords: breachDuplicates,
      lateness: distribution(lateMs, expected - observed),
      firedLateness: distribution(firedMs),
    },
    lag: { afterSend, afterWait },
    postgres: {
      transactions: txAfter.ours - txBefore.ours,
      transactionsPerAcceptedRequest: acceptedCount > 0 ? Math.round(((txAfter.ours - txBefore.ours) / acceptedCount) * 10) / 10 : null,
      serverTransactionsPerSecond: Math.round((txAfter.all - txBefore.all) / Math.max(0.001, (wallNow() - stepStart) / 1000)),
    },
    usage,
    benchLoopDelayP99Ms: Math.round(loop.percentile(99) / 1e5) / 10,
    waitedSeconds: Math.round((waitEnd - sendEnd) / 100) / 10,
    verdict,
  };
}

export interface LadderResult {
  bench: 'e2e';
  when: string;
  command: string;
  machine: ReturnType<typeof machineInfo> & { loadavgEnd: number[] };
  config: Omit<E2eOptions, 'quick'> & { quick: boolean; brokers: string[]; policy: object; receiptClock: string };
  stack: { prefix: string; database: string; startupMs: number; services: { name: string; pid: number; port: number }[]; sample: Stack['sample'] };
  steps: StepResult[];
  saturation: {
    /** First offered rate that saturated, null if none did. */
    rate: number | null;
    reasons: string[];
    /** Highest end-to-end throughput observed (dispatches/s). */
    throughputPerSecond: number;
    /** Highest offered rate that held. */
    highestSustainedRate: number | null;
  };
  stoppedBecause: string;
  yardsticks: { hello: HelloResult | { error: string }; producer: ProducerPerfResult | { error: string } };
  ratios: Record<string, number | null>;
  totalSeconds: number;
}

export async function runLadder(options: E2eOptions, say: (line: string) => void, command: string): Promise<LadderResult> {
  const started = Date.now();
  const machine = machineInfo();
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const runId = randomBytes(4).toString('hex');
  const runDir = join(tmpdir(), `gd-bench-e2e-${runId}`);
  const policy = benchPolicy(options.breachAfterMs);
  say(
    `bench:e2e run ${runId}: rates ${options.rates.join(', ')}/s × ${options.durationMs / 1000}s, p99 bound ${formatMs(options.p99BoundMs)}, budget ${options.budgetMs / 1000}s`,
  );
  say(`machine: ${machine.cpus} CPUs (${machine.cpu}), load average ${machine.loadavg.join(' ')} — shared with whatever else runs here`);

  const stack = await startStack({ runId, brokers, serverUrl, scale: options.scale, policy, runDir, say, env: options.serviceEnv });
  const kafka = kafkaClient(brokers, `bench-e2e-${runId}`);
  const admin = kafka.admin();
  const watcherGroup = `${stack.prefix}bench-watcher`;
  const watcher = new OutputWatcher(kafka, stack.prefix, watcherGroup);
  const poster = createPoster(`${stack.intakeUrl}/v1/requests/95598`, stack.apiKey, { maxSockets: 256, timeoutMs: 60_000 });
  const sampler = new ProcSampler([
    ...stack.services.map((s) => ({ name: s.name, pids: () => [s.pid] })),
    { name: 'bench (load + watcher)', pids: () => [process.pid] },
    { name: 'kafka broker (shared)', pids: () => findPids({ cmdline: 'kafka.Kafka' }) },
    { name: 'postgres (all, shared)', pids: () => findPids({ comm: 'postgres' }) },
  ]);
  const pgStats = new pg.Client({ connectionString: serverUrl, application_name: 'bench-e2e-stats' });
  const steps: StepResult[] = [];
  let stoppedBecause = 'every rate held';
  let exampleCall: unknown = null;
  let avgDispatchBytes = 0;
  try {
    await admin.connect();
    await pgStats.connect();
    await watcher.start();
    sampler.start();
    const calls = createCallSource({ county: generateSampleCounty({ seed: 1, scale: options.scale }), mix: 'day', seed: 20261123, runId });
    exampleCall = createCallSource({ county: generateSampleCounty({ seed: 1, scale: 1 }), mix: 'day', seed: 1, runId: 'hello' }).next(new Date());
    const ctx: Ctx = { stack, pgStats, watcher, admin, poster, calls, sampler, options, watcherGroup, say };
    // Yardsticks and teardown take about this long; the ladder stops early enough to leave room.
    const reserveMs = (options.helloSeconds + 6) * 1000 + (options.quick ? 12_000 : 25_000);
    // Warm-up at the first rate, not reported: JIT, connection pools, first fetches of every consumer.
    if (options.warmupMs > 0) {
      const rate = options.rates[0]!;
      say(`warm-up: ${rate}/s for ${options.warmupMs / 1000}s (not reported) ...`);
      const warm = await runStep({ ...ctx, options: { ...options, durationMs: options.warmupMs, waitMs: 15_000 } }, rate);
      say(
        `  warm-up done: ${warm.dispatch.assigned + warm.dispatch.unroutable}/${warm.requests.planned} dispatched, POST→dispatch p50 ${formatMs(warm.dispatch.latency.p50)}`,
      );
      const settleUntil = Date.now() + 15_000;
      while (sumLag(await lagNow(ctx)) > 0 && Date.now() < settleUntil) await new Promise((r) => setTimeout(r, 500));
    }
    for (const rate of options.rates) {
      const expectedStepMs = options.durationMs + Math.min(options.waitMs, 5_000) + 2_000;
      if (Date.now() - started + expectedStepMs + reserveMs > options.budgetMs) {
        stoppedBecause = `time budget of ${options.budgetMs / 1000}s (next rate ${rate}/s would not fit)`;
        break;
      }
      const gone = stack.exited();
      if (gone) throw new Error(`${gone.name} exited (code ${gone.code}, signal ${gone.signal}); see its log in ${runDir}`);
      say(`rate ${rate}/s for ${options.durationMs / 1000}s ...`);
      const step = await runStep(ctx, rate);
      steps.push(step);
      const d = step.dispatch.latency;
      say(
        `  ${rate}/s: accepted ${step.requests.accepted}/${step.requests.planned} (${step.acceptedPerSecond}/s), errors ${step.requests.errors + step.requests.unanswered}; ` +
          `POST→dispatch p50 ${formatMs(d.p50)} p99 ${formatMs(d.p99)} max ${formatMs(d.max)}; achieved ${step.achievedPerSecond}/s; ` +
          `breach lateness p99 ${formatMs(step.breaches.lateness.p99)} (${step.breaches.observed}/${step.breaches.expected}); lag after ${sumLag(step.lag.afterWait)}; ` +
          `${step.postgres.transactionsPerAcceptedRequest ?? '—'} PostgreSQL transactions/request, server ${step.postgres.serverTransactionsPerSecond}/s; machine CPU ${step.usage.machineBusyPercent}%`,
      );
      if (step.verdict.saturated) {
        stoppedBecause = `saturated at ${rate}/s: ${step.verdict.reasons.join('; ')}`;
        say(`  → ${stoppedBecause}`);
        break;
      }
      // Start the next rate from an empty pipeline (bounded).
      const settleUntil = Date.now() + 15_000;
      while (sumLag(await lagNow(ctx)) > 0 && Date.now() < settleUntil) await new Promise((r) => setTimeout(r, 500));
    }
    const sizes = [...watcher.dispatches.values()].map((d) => d.bytes);
    avgDispatchBytes = sizes.length > 0 ? Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length) : 1024;
  } finally {
    sampler.stop();
    poster.close();
    await watcher.stop().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await pgStats.end().catch(() => undefined);
    say('stopping the stack (SIGTERM, drain), dropping the database and the run topics ...');
    await stack.stop();
  }

  // Yardsticks on the quiet machine (the stack is down), same broker, same body, same run.
  say(`yardstick: bare Fastify hello-world, autocannon ${options.helloSeconds}s × 20 connections ...`);
  const hello = await helloYardstick(exampleCall, options.helloSeconds).catch((err: Error) => ({ error: err.message }));
  if ('requestsPerSecond' in hello) say(`  ${hello.requestsPerSecond} req/s, p50 ${hello.p50Ms} ms, p99 ${hello.p99Ms} ms`);
  say(`yardstick: kafka-producer-perf-test, ${options.producerRecords} records of ${avgDispatchBytes} B (the average dispatch.assigned) ...`);
  const producer = await producerPerfYardstick({
    brokers,
    topic: `bench.e2e.${runId}.yardstick.producer-perf`,
    records: options.producerRecords,
    recordSize: avgDispatchBytes,
    say,
  }).catch((err: Error) => ({ error: err.message }));
  if ('recordsPerSecond' in producer)
    say(`  ${producer.recordsPerSecond} records/s (${producer.mbPerSecond} MB/s), p50 ${producer.p50Ms} ms, p99 ${producer.p99Ms} ms`);

  const saturatedStep = steps.find((s) => s.verdict.saturated) ?? null;
  const held = steps.filter((s) => !s.verdict.saturated);
  const throughput = Math.max(0, ...steps.map((s) => s.achievedPerSecond));
  const first = steps[0];
  const ratios: Record<string, number | null> = {
    throughputVsHelloWorld: 'requestsPerSecond' in hello && hello.requestsPerSecond > 0 ? round4(throughput / hello.requestsPerSecond) : null,
    throughputVsProducerPerf: 'recordsPerSecond' in producer && producer.recordsPerSecond > 0 ? round4(throughput / producer.recordsPerSecond) : null,
    // autocannon reports whole milliseconds: a hello-world p50 of 0 means "under 1 ms", so 1 ms is used.
    httpP50VsHelloWorldP50: first?.http.p50 != null && 'p50Ms' in hello ? round4(first.http.p50 / Math.max(1, hello.p50Ms)) : null,
  };
  return {
    bench: 'e2e',
    when: new Date(started).toISOString(),
    command,
    machine: { ...machine, loadavgEnd: machineInfo().loadavg },
    config: {
      ...options,
      brokers,
      policy,
      receiptClock:
        "latency ends when the benchmark's own kafkajs consumer receives the record (wall clock of this process); latencyToEventTime uses the CloudEvent time set by grid-routing",
    },
    stack: {
      prefix: stack.prefix,
      database: stack.database,
      startupMs: stack.startupMs,
      services: stack.services.map(({ name, pid, port }) => ({ name, pid, port })),
      sample: stack.sample,
    },
    steps,
    saturation: {
      rate: saturatedStep?.offeredPerSecond ?? null,
      reasons: saturatedStep?.verdict.reasons ?? [],
      throughputPerSecond: throughput,
      highestSustainedRate: held.length > 0 ? held[held.length - 1]!.offeredPerSecond : null,
    },
    stoppedBecause,
    yardsticks: { hello, producer },
    ratios,
    totalSeconds: Math.round((Date.now() - started) / 1000),
  };
}

function round4(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}
