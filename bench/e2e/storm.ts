import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSampleCounty } from '@griddispatch/grid';
import { createCallSource } from './calls.ts';
import { consumerLag, kafkaClient, OutputWatcher, wallNow, type GroupLag } from './kafka.ts';
import { benchPolicy } from './ladder.ts';
import { createPoster, runOpenLoop, type PostResult } from './load.ts';
import type { StormOptions } from './options.ts';
import { findPids, ProcSampler, type WindowUsage } from './procstat.ts';
import { machineInfo, writeResults, writeText } from './results.ts';
import { startStack } from './stack.ts';
import { distribution, formatMs, histogram, latencyWindows, type Distribution, type LatencyWindow } from './stats.ts';
import { countStorm, readStormDatabase, type StormCounts } from './storm-counts.ts';

// The typhoon: N fault calls in M minutes (open loop) clustered on the 台区 of a few feeders, many
// calls per 台区 and customers calling back. Then: is every call accounted for (exactly once on
// dispatch.assigned or dispatch.unroutable, by request id)? How were the calls grouped into
// incidents? How long after the last call until the backlog was gone?
// The built-in SLA policy (docs/architecture.md#sla-policy) is used: this scenario is about dispatch under a surge
// (`--breach-after D` gives fault calls an ack window of D instead, so breaches fire within the run).
// At the end: calls, incidents, SLA timers created and breaches emitted, per incident (storm-counts.ts).

const INCIDENT_BUCKETS = [1, 2, 5, 20, 100, 1000];

export interface StormResult {
  bench: 'storm';
  when: string;
  command: string;
  machine: ReturnType<typeof machineInfo> & { loadavgEnd: number[] };
  config: StormOptions & { targetPerSecond: number; brokers: string[]; policy: string | object };
  stack: {
    prefix: string;
    startupMs: number;
    services: { name: string; pid: number }[];
    sample: { scale: number; grids: number; districts: number; customers: number };
  };
  storm: { feeders: { code: string; name: string; districts: number }[]; districtsThatCanCall: number; districtsThatCalled: number };
  sending: {
    planned: number;
    sent: number;
    /** From the first call's due time to the last call's. */
    windowSeconds: number;
    accepted: number;
    acceptedPerSecond: number;
    duplicates: number;
    errors: number;
    errorsByStatus: Record<string, number>;
    unanswered: number;
    http: Distribution;
  };
  accounting: {
    accepted: number;
    exactlyOnce: number;
    missing: number;
    /** Request ids with more than one dispatch record. */
    duplicated: number;
    assigned: number;
    unroutable: number;
    /** Dispatch records for ids this run never got a 202 for (e.g. a client timeout after the server accepted). */
    unknownIds: number;
    /** Work orders intake opened for incidents without a call (source grid-dispatch), dispatched like calls. */
    incidentWorkOrders: number;
    /** Calls intake refused with an HTTP error: the caller was told (95598 retries), nothing half-done. */
    refused: number;
    /** Calls that never got an answer (lost from the caller's point of view). */
    unanswered: number;
    /** Every call answered, every accepted one dispatched exactly once, no dispatch for an unknown id. */
    allAccountedFor: boolean;
  };
  incidents: {
    incidents: number;
    callsInIncidents: number;
    callsWithoutIncident: number;
    callsPerIncident: { p50: number | null; p99: number | null; max: number | null; mean: number };
    sizeHistogram: { bucket: string; count: number }[];
    largest: { incidentId: string; districtCode: string | null; calls: number; reportedSize: number | null }[];
    /** Incidents whose largest reported incidentSize differs from the calls counted here. */
    sizeMismatches: number;
  };
  latency: {
    postToDispatch: Distribution;
    postToEventTime: Distribution;
    /** POST → dispatch of the calls due in each 10 s of the storm: the dispatch lag throughout. */
    postToDispatchByWindow: LatencyWindow[];
  };
  /** Read at the end from the databases (timers, incidents) and topics (breaches, incidents.events). */
  counts: StormCounts;
  drain: {
    /** Last call's due time → every accepted call dispatched and requests.received lag 0. */
    dispatchDrainSeconds: number | null;
    /** Last call's due time → every consumer group of the stack at lag 0 (read model, timers, notifications too). */
    fullDrainSeconds: number | null;
    lastAnswerAfterLastCallSeconds: number | null;
    lastDispatchAfterLastCallSeconds: number | null;
    drained: boolean;
    maxLagPerGroup: Record<string, number>;
    lagTimeline: { t: number; total: number; requestsReceived: number }[];
    lagAtEnd: GroupLag[];
  };
  usage: WindowUsage;
  totalSeconds: number;
}

const sum = (lags: GroupLag[]) => lags.reduce((s, g) => s + g.total, 0);
const routingLag = (lags: GroupLag[]) => lags.reduce((s, g) => s + (g.topics['requests.received'] ?? 0), 0);

export async function runStorm(options: StormOptions, say: (line: string) => void, command: string): Promise<StormResult> {
  const started = Date.now();
  const machine = machineInfo();
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const runId = randomBytes(4).toString('hex');
  const runDir = join(tmpdir(), `gd-bench-storm-${runId}`);
  const rate = options.calls / (options.minutes * 60);
  const county = generateSampleCounty({ seed: 1, scale: options.scale });
  const calls = createCallSource({ county, mix: 'storm', seed: 20260915, runId, feeders: options.feeders });
  say(`storm ${runId}: ${options.calls} fault calls in ${options.minutes} min = ${rate.toFixed(1)}/s (open loop), sample county ×${options.scale}`);
  say(
    `typhoon on ${calls.feeders.length} feeders${calls.feeders.length < options.feeders ? ` (all the county has; ${options.feeders} asked)` : ''}: ` +
      `${calls.feeders.map((f) => `${f.name} ${f.code} (${f.districts} 台区)`).join(', ')}`,
  );
  say(`machine: ${machine.cpus} CPUs, load average ${machine.loadavg.join(' ')}`);

  const policy = options.breachAfterMs === null ? null : benchPolicy(options.breachAfterMs);
  const stack = await startStack({ runId, brokers, serverUrl, scale: options.scale, policy, runDir, say, env: options.serviceEnv });
  const kafka = kafkaClient(brokers, `bench-storm-${runId}`);
  const admin = kafka.admin();
  const watcherGroup = `${stack.prefix}bench-watcher`;
  const watcher = new OutputWatcher(kafka, stack.prefix, watcherGroup);
  // Generous timeout: when intake falls behind, calls queue here, and that is latency, not an error.
  const poster = createPoster(`${stack.intakeUrl}/v1/requests/95598`, stack.apiKey, { maxSockets: 256, timeoutMs: 600_000 });
  const sampler = new ProcSampler([
    ...stack.services.map((s) => ({ name: s.name, pids: () => [s.pid] })),
    { name: 'bench (load + watcher)', pids: () => [process.pid] },
    { name: 'kafka broker (shared)', pids: () => findPids({ cmdline: 'kafka.Kafka' }) },
    { name: 'postgres (all, shared)', pids: () => findPids({ comm: 'postgres' }) },
  ]);
  const lagOf = () => consumerLag(admin, stack.prefix, [watcherGroup]);

  try {
    await admin.connect();
    await watcher.start();
    sampler.start();
    const count = options.calls;
    const due = new Array<number>(count).fill(0);
    const results = new Array<PostResult | undefined>(count).fill(undefined); // no holes: filter() skips holes
    const districtsCalled = new Set<string>();
    let inFlight = 0;
    let accepted = 0;
    let errors = 0;
    const maxLag: Record<string, number> = {};
    const timeline: StormResult['drain']['lagTimeline'] = [];
    const startAt = wallNow() + 200;
    let lastLag: GroupLag[] = [];
    let lagPending = false;
    const pollLag = () => {
      if (lagPending) return;
      lagPending = true;
      void lagOf()
        .then((lags) => {
          lastLag = lags;
          for (const g of lags) maxLag[g.group] = Math.max(maxLag[g.group] ?? 0, g.total);
          timeline.push({ t: Math.round((wallNow() - startAt) / 100) / 10, total: sum(lags), requestsReceived: routingLag(lags) });
        })
        .catch(() => undefined)
        .finally(() => (lagPending = false));
    };
    const progress = () => {
      const t = (wallNow() - startAt) / 1000;
      const sent = accepted + errors + inFlight;
      say(
        `  ${t.toFixed(0)}s: sent ${sent}/${count} (${(sent / Math.max(1, t)).toFixed(0)}/s) · accepted ${accepted} · errors ${errors} · in flight ${inFlight} · ` +
          `dispatched ${watcher.dispatches.size} · lag ${sum(lastLag)} (requests.received ${routingLag(lastLag)})`,
      );
      pollLag();
    };

    await runOpenLoop({
      ratePerSecond: rate,
      count,
      startAt,
      tickMs: 5000,
      onTick: progress,
      send: (i, dueAt) => {
        due[i] = dueAt;
        inFlight += 1;
        const call = calls.next(new Date(dueAt));
        districtsCalled.add(call.tqbh);
        void poster.post(call, dueAt).then((r) => {
          results[i] = r;
          inFlight -= 1;
          if (r.status === 202) accepted += 1;
          else errors += 1;
        });
      },
    });
    const lastDue = due[count - 1]!;
    say(`all ${count} calls sent; ${inFlight} still awaiting an answer. Draining ...`);

    // Drain: poll every second until everything is dispatched and every group caught up.
    const drainUntil = wallNow() + options.drainTimeoutMs;
    let dispatchDrainAt: number | null = null;
    let fullDrainAt: number | null = null;
    let lastReport = wallNow();
    for (;;) {
      const lags = await lagOf().catch(() => lastLag);
      lastLag = lags;
      for (const g of lags) maxLag[g.group] = Math.max(maxLag[g.group] ?? 0, g.total);
      const now = wallNow();
      timeline.push({ t: Math.round((now - startAt) / 100) / 10, total: sum(lags), requestsReceived: routingLag(lags) });
      let undispatched = 0;
      for (const r of results) if (r?.status === 202 && r.id && !watcher.dispatches.has(r.id)) undispatched += 1;
      if (dispatchDrainAt === null && inFlight === 0 && undispatched === 0 && routingLag(lags) === 0) {
        dispatchDrainAt = now;
        say(`  dispatch backlog drained ${((now - lastDue) / 1000).toFixed(1)}s after the last call`);
      }
      if (dispatchDrainAt !== null && sum(lags) === 0) {
        fullDrainAt = now;
        say(`  every consumer group at lag 0 ${((now - lastDue) / 1000).toFixed(1)}s after the last call`);
        break;
      }
      if (now >= drainUntil) {
        say(`  not drained after ${options.drainTimeoutMs / 1000}s: ${inFlight} unanswered, ${undispatched} undispatched, lag ${sum(lags)}`);
        break;
      }
      if (now - lastReport >= 5000) {
        lastReport = now;
        say(
          `  drain +${((now - lastDue) / 1000).toFixed(0)}s: ${inFlight} unanswered · ${undispatched} undispatched · lag ${
            lags
              .filter((g) => g.total > 0)
              .map((g) => `${g.group} ${g.total}`)
              .join(', ') || 0
          }`,
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    const endAt = wallNow();
    const usage = sampler.window(startAt, endAt);
    if (options.breachAfterMs !== null) {
      // The last calls' ack breaches are due breachAfter after them: give them (and the watcher) time to arrive.
      const breachesDue = lastDue + options.breachAfterMs + 5_000;
      if (wallNow() < breachesDue) say(`  waiting ${((breachesDue - wallNow()) / 1000).toFixed(0)}s for the last calls' breaches ...`);
      while (wallNow() < breachesDue) await new Promise((r) => setTimeout(r, 500));
    }

    // --- accounting by request id ---------------------------------------------------------
    const errorsByStatus: Record<string, number> = {};
    const httpMs: number[] = [];
    const eventMs: number[] = [];
    // Each accepted or unanswered call by its due time; null: never dispatched (or never answered).
    const dispatchByDue: { dueAt: number; ms: number | null }[] = [];
    const ours = new Set<string>();
    let duplicates = 0;
    let lastAnswer = 0;
    let exactlyOnce = 0;
    let missing = 0;
    let duplicated = 0;
    let assigned = 0;
    let unroutable = 0;
    const incidentCalls = new Map<string, { calls: number; reported: number | null; districtCode: string | null }>();
    let withoutIncident = 0;
    for (let i = 0; i < count; i++) {
      const r = results[i];
      if (!r) {
        dispatchByDue.push({ dueAt: due[i]!, ms: null });
        continue;
      }
      lastAnswer = Math.max(lastAnswer, r.doneAt);
      if (r.status !== 202 || !r.id) {
        errorsByStatus[String(r.status)] = (errorsByStatus[String(r.status)] ?? 0) + 1;
        continue;
      }
      httpMs.push(r.latencyMs);
      if (r.duplicate) duplicates += 1;
      ours.add(r.id);
      const d = watcher.dispatches.get(r.id);
      dispatchByDue.push({ dueAt: due[i]!, ms: d ? d.at - due[i]! : null });
      if (!d) {
        missing += 1;
        continue;
      }
      if (d.count === 1) exactlyOnce += 1;
      else duplicated += 1;
      if (d.kind === 'assigned') assigned += 1;
      else unroutable += 1;
      eventMs.push(d.eventTime - due[i]!);
      if (d.kind !== 'assigned') continue;
      if (d.incidentId === null) {
        withoutIncident += 1;
        continue;
      }
      const inc = incidentCalls.get(d.incidentId) ?? { calls: 0, reported: null, districtCode: d.districtCode };
      inc.calls += 1;
      inc.reported = Math.max(inc.reported ?? 0, d.incidentSize ?? 0);
      incidentCalls.set(d.incidentId, inc);
    }
    // Work orders intake opened for incidents without a call (a feeder incident's: its crew) are
    // no caller's; anything else not ours is a dispatch of an id nobody sent.
    let unknownIds = 0;
    let incidentWorkOrders = 0;
    for (const [id, d] of watcher.dispatches) {
      if (ours.has(id)) continue;
      if (d.source === 'grid-dispatch') incidentWorkOrders += 1;
      else unknownIds += 1;
    }
    const unanswered = results.filter((r) => r === undefined).length;
    const acceptedIds = ours.size;
    const sizes = [...incidentCalls.values()].map((v) => v.calls);
    const sizeDist = distribution(sizes);
    const lastDispatch = watcher.lastDispatchAt;
    const counts = countStorm({
      accepted: ours,
      dispatches: watcher.dispatches,
      breaches: watcher.breaches,
      incidents: watcher.incidents,
      database: await readStormDatabase(stack.databaseUrl),
    });

    const result: StormResult = {
      bench: 'storm',
      when: new Date(started).toISOString(),
      command,
      machine: { ...machine, loadavgEnd: machineInfo().loadavg },
      config: { ...options, targetPerSecond: Math.round(rate * 10) / 10, brokers, policy: policy ?? 'built-in (packages/sla DEFAULT_POLICY)' },
      stack: { prefix: stack.prefix, startupMs: stack.startupMs, services: stack.services.map(({ name, pid }) => ({ name, pid })), sample: stack.sample },
      storm: { feeders: calls.feeders, districtsThatCanCall: calls.districts, districtsThatCalled: districtsCalled.size },
      sending: {
        planned: count,
        sent: count,
        windowSeconds: Math.round((lastDue - startAt) / 100) / 10,
        accepted: acceptedIds,
        acceptedPerSecond: Math.round((acceptedIds / Math.max(0.001, (lastAnswer - startAt) / 1000)) * 10) / 10,
        duplicates,
        errors: count - unanswered - acceptedIds,
        errorsByStatus,
        unanswered,
        http: distribution(httpMs, unanswered),
      },
      accounting: {
        accepted: acceptedIds,
        exactlyOnce,
        missing,
        duplicated,
        assigned,
        unroutable,
        unknownIds,
        incidentWorkOrders,
        refused: count - unanswered - acceptedIds,
        unanswered,
        allAccountedFor: missing === 0 && duplicated === 0 && unanswered === 0 && unknownIds === 0,
      },
      incidents: {
        incidents: incidentCalls.size,
        callsInIncidents: sizes.reduce((a, b) => a + b, 0),
        callsWithoutIncident: withoutIncident,
        callsPerIncident: {
          p50: sizeDist.p50,
          p99: sizeDist.p99,
          max: sizeDist.max,
          mean: sizes.length > 0 ? Math.round((sizes.reduce((a, b) => a + b, 0) / sizes.length) * 10) / 10 : 0,
        },
        sizeHistogram: histogram(sizes, INCIDENT_BUCKETS),
        largest: [...incidentCalls.entries()]
          .sort((a, b) => b[1].calls - a[1].calls)
          .slice(0, 5)
          .map(([incidentId, v]) => ({ incidentId, districtCode: v.districtCode, calls: v.calls, reportedSize: v.reported })),
        sizeMismatches: [...incidentCalls.values()].filter((v) => v.reported !== v.calls).length,
      },
      latency: {
        postToDispatch: distribution(
          dispatchByDue.flatMap(({ ms }) => (ms === null ? [] : [ms])),
          missing + unanswered,
        ),
        postToEventTime: distribution(eventMs, missing + unanswered),
        postToDispatchByWindow: latencyWindows(dispatchByDue, startAt, 10_000),
      },
      counts,
      drain: {
        dispatchDrainSeconds: dispatchDrainAt === null ? null : Math.round((dispatchDrainAt - lastDue) / 100) / 10,
        fullDrainSeconds: fullDrainAt === null ? null : Math.round((fullDrainAt - lastDue) / 100) / 10,
        lastAnswerAfterLastCallSeconds: lastAnswer > 0 ? Math.round((lastAnswer - lastDue) / 100) / 10 : null,
        lastDispatchAfterLastCallSeconds: lastDispatch > 0 ? Math.round((lastDispatch - lastDue) / 100) / 10 : null,
        drained: fullDrainAt !== null,
        maxLagPerGroup: maxLag,
        lagTimeline: timeline,
        lagAtEnd: lastLag,
      },
      usage,
      totalSeconds: 0,
    };
    result.totalSeconds = Math.round((Date.now() - started) / 1000);
    const { file, latest } = writeResults('storm', result);
    const md = writeText('storm-summary.md', stormSummary(result));
    say('');
    say(stormSummary(result));
    say(`results: ${file}\n         ${latest}\n         ${md}`);
    return result;
  } finally {
    sampler.stop();
    poster.close();
    await watcher.stop().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    say('stopping the stack, dropping the database and the run topics ...');
    await stack.stop();
  }
}

const secs = (v: number | null) => (v === null ? 'not within the drain timeout' : `${v} s`);

export function stormSummary(r: StormResult): string {
  const a = r.accounting;
  const s = r.sending;
  const i = r.incidents;
  const d = r.drain;
  const lines: string[] = [];
  lines.push(`# Storm scenario (${r.when.slice(0, 10)})`, '');
  lines.push(
    `\`${r.command}\` on ${r.machine.cpus} × ${r.machine.cpu}, Node ${r.machine.node}; load average ${r.machine.loadavg.join(' ')} → ${r.machine.loadavgEnd.join(' ')} (shared machine). ${r.totalSeconds} s in all.`,
    '',
  );
  lines.push(
    `**Scenario**: ${s.planned} 95598 fault calls in ${r.config.minutes} min, open loop at **${r.config.targetPerSecond}/s**, clustered on ${r.storm.feeders.length} feeders ` +
      `of the sample county ×${r.config.scale} (${r.storm.feeders.map((f) => f.code).join(', ')}: ${r.storm.districtsThatCanCall} 台区, ${r.storm.districtsThatCalled} of which called), ` +
      `Zipf-weighted per 台区 and with one caller in ten calling back. Distributed stack: four services as separate processes, shared Kafka broker, fresh PostgreSQL database, ` +
      (r.config.breachAfterMs === null
        ? 'the built-in SLA policy.'
        : `an SLA policy giving fault calls an ack window of ${r.config.breachAfterMs / 1000} s (\`--breach-after\`).`),
    '',
  );
  const env = Object.entries(r.config.serviceEnv);
  if (env.length > 0) lines.push(`**Service environment set for this run**: ${env.map(([k, v]) => `\`${k}=${v}\``).join(', ')}.`, '');
  lines.push('| | |', '| --- | --: |');
  lines.push(`| calls accepted (202) | ${a.accepted} of ${s.planned}; errors ${s.errors}, unanswered ${s.unanswered} |`);
  lines.push(`| accepted per second (first call → last answer) | ${s.acceptedPerSecond}/s (target ${r.config.targetPerSecond}/s) |`);
  lines.push(`| HTTP 202 latency p50 / p99 / max (from the due time) | ${formatMs(s.http.p50)} / ${formatMs(s.http.p99)} / ${formatMs(s.http.max)} |`);
  lines.push(
    `| **every call accounted for** (answered; each accepted id exactly once on dispatch.assigned or dispatch.unroutable) | **${a.allAccountedFor ? 'yes' : 'no'}**: ` +
      `${a.accepted} accepted → ${a.exactlyOnce} dispatched exactly once, ${a.missing} missing, ${a.duplicated} more than once, ${a.unknownIds} dispatches of unknown ids (besides ${a.incidentWorkOrders} work orders of incidents opened without a call); ` +
      `${a.refused} refused with an HTTP error${
        Object.keys(s.errorsByStatus).length > 0
          ? ` (${Object.entries(s.errorsByStatus)
              .map(([k, n]) => `${k} ×${n}`)
              .join(', ')})`
          : ''
      }, ${a.unanswered} unanswered |`,
  );
  lines.push(`| assigned / unroutable | ${a.assigned} / ${a.unroutable} |`);
  lines.push(
    `| **incidents** | **${i.incidents}** from ${i.callsInIncidents} calls (${i.callsWithoutIncident} calls without one); calls per incident p50 ${i.callsPerIncident.p50 ?? '—'}, p99 ${i.callsPerIncident.p99 ?? '—'}, max ${i.callsPerIncident.max ?? '—'}, mean ${i.callsPerIncident.mean} |`,
  );
  lines.push(`| incident sizes | ${i.sizeHistogram.map((h) => `${h.bucket}: ${h.count}`).join(' · ')} |`);
  lines.push(`| reported incidentSize = calls counted here | ${i.incidents - i.sizeMismatches} of ${i.incidents} incidents |`);
  const c = r.counts;
  const per = (p: StormCounts['timers']['perIncident']) => `${p.incidents} incidents, per incident p50 ${p.p50 ?? '—'}, max ${p.max ?? '—'}, mean ${p.mean}`;
  lines.push(
    `| **calls / incidents** (end of run) | ${c.calls} calls; ${c.incidents.fromDispatches} incidents on the dispatches, ` +
      `${c.incidents.inDatabase ?? '—'} in routing.incidents (${c.incidents.feederInDatabase ?? '—'} feeder), ${c.incidents.onTopic} on incidents.events (${c.incidents.openedOnTopic} opened) |`,
  );
  lines.push(`| roles on dispatch.assigned | primary ${c.roles.primary} · merged ${c.roles.merged} · none ${c.roles.none} |`);
  lines.push(
    `| **SLA timers created** (sla_timer.timers) | **${c.timers.created}** (${
      Object.entries(c.timers.byKind)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }; ${c.timers.fired} fired) on ${c.timers.workOrdersWithTimers} work orders; ` +
      `${per(c.timers.perIncident)}; at most ${c.timers.maxTimedWorkOrdersPerIncident} timed work order(s) per incident; ${c.timers.ofMergedWorkOrders} of merged calls, ${c.timers.withoutIncident} outside incidents |`,
  );
  lines.push(
    `| **sla.breaches emitted** | **${c.breaches.emitted}** records (${c.breaches.distinct} distinct; sla-timer fired ${c.breaches.firedInDatabase} breach levels); ${per(c.breaches.perIncident)}; ` +
      `${c.breaches.ofMergedWorkOrders} of merged calls, ${c.breaches.withoutIncident} outside incidents |`,
  );
  lines.push(
    `| POST → dispatch p50 / p99 / max | ${formatMs(r.latency.postToDispatch.p50)} / ${formatMs(r.latency.postToDispatch.p99)} / ${formatMs(r.latency.postToDispatch.max)} |`,
  );
  const windows = r.latency.postToDispatchByWindow;
  const worst = windows.reduce<LatencyWindow | null>((w, x) => (w === null || (x.max ?? Infinity) > (w.max ?? Infinity) ? x : w), null);
  const over = (bound: number) => windows.filter((w) => w.max === null || w.max > bound).length;
  lines.push(
    `| **POST → dispatch throughout** (calls by due time, 10 s windows) | ${windows.length} windows: max over 5 s in **${over(5_000)}**, over 2 s in ${over(2_000)}; ` +
      `worst window at ${worst?.fromSeconds ?? '—'} s: p50 ${formatMs(worst?.p50 ?? null)}, p99 ${formatMs(worst?.p99 ?? null)}, max ${formatMs(worst?.max ?? null)} |`,
  );
  lines.push(`| **dispatch backlog drained** (last call → all dispatched, requests.received lag 0) | **${secs(d.dispatchDrainSeconds)}** |`);
  lines.push(`| every consumer group at lag 0 (read model, timers, notifications) | ${secs(d.fullDrainSeconds)} |`);
  lines.push(`| last answer / last dispatch after the last call | ${secs(d.lastAnswerAfterLastCallSeconds)} / ${secs(d.lastDispatchAfterLastCallSeconds)} |`);
  lines.push(
    `| peak lag per group | ${
      Object.entries(d.maxLagPerGroup)
        .map(([g, n]) => `${g} ${n}`)
        .join(', ') || '—'
    } |`,
  );
  lines.push(`| machine CPU (whole run) | ${r.usage.machineBusyPercent} % |`);
  lines.push('');
  lines.push(
    `CPU (% of one core) and peak RSS per process over the storm and drain: ${Object.entries(r.usage.processes)
      .map(([n, u]) => `${n} ${u.cpuPercent} % · ${u.rssMaxMb} MB`)
      .join('; ')}.`,
    '',
  );
  lines.push(`Largest incidents: ${i.largest.map((x) => `${x.districtCode ?? '?'} ${x.calls} calls`).join(', ') || '—'}.`, '');
  if (s.acceptedPerSecond < 0.9 * r.config.targetPerSecond) {
    lines.push(
      `The stack accepted ${s.acceptedPerSecond}/s against the ${r.config.targetPerSecond}/s offered: calls queued in the client (open loop) and the drain time above is what that cost.`,
      '',
    );
  }
  lines.push('Raw numbers, lag timeline included: `bench/results/storm-latest.json` (committed with this summary).', '');
  return `${lines.join('\n')}\n`;
}
