import { renderLatencyChart } from './chart.ts';
import type { LadderResult, StepResult } from './ladder.ts';
import type { GroupLag } from './kafka.ts';
import { formatMs } from './stats.ts';

// The committed face of a run: a short markdown summary and the latency-against-rate chart.

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(v < 0.01 ? 2 : 1)} %`);
const lagText = (lags: GroupLag[]) => {
  const busy = lags.filter((g) => g.total > 0);
  return busy.length === 0 ? '0' : busy.map((g) => `${g.group} ${g.total}`).join(', ');
};

export function latencyChart(result: LadderResult): string {
  const steps = result.steps;
  return renderLatencyChart({
    title: 'grid-dispatch end to end: latency against offered rate',
    subtitle: `${result.machine.cpus} CPUs, ${result.stack.services.length} services + Kafka + PostgreSQL on one machine · ${result.when.slice(0, 16).replace('T', ' ')} UTC`,
    x: steps.map((s) => s.offeredPerSecond),
    series: [
      { name: 'POST→dispatch p50', color: '#1f77b4', values: steps.map((s) => s.dispatch.latency.p50) },
      { name: 'POST→dispatch p99', color: '#d62728', values: steps.map((s) => s.dispatch.latency.p99) },
      { name: 'HTTP 202 p99', color: '#7f7f7f', dashed: true, values: steps.map((s) => s.http.p99) },
      { name: 'breach lateness p99', color: '#2ca02c', dashed: true, values: steps.map((s) => s.breaches.lateness.p99) },
    ],
    bound: { ms: result.config.p99BoundMs, label: `p99 bound ${formatMs(result.config.p99BoundMs)}` },
    ...(result.saturation.rate !== null ? { saturation: { rate: result.saturation.rate, label: `saturated at ${result.saturation.rate}/s` } } : {}),
  });
}

function stepRow(s: StepResult): string {
  const d = s.dispatch.latency;
  const b = s.breaches.lateness;
  const errors = s.requests.errors + s.requests.unanswered;
  return `| ${s.offeredPerSecond} | ${s.acceptedPerSecond} | ${s.achievedPerSecond} | ${errors} | ${formatMs(s.http.p50)} / ${formatMs(s.http.p99)} | ${formatMs(d.p50)} / ${formatMs(d.p99)} / ${formatMs(d.max)} | ${s.breaches.observed}/${s.breaches.expected}: ${formatMs(b.p50)} / ${formatMs(b.p99)} / ${formatMs(b.max)} | ${lagText(s.lag.afterSend)} → ${lagText(s.lag.afterWait)} | ${s.postgres.transactionsPerAcceptedRequest ?? '—'} · ${s.postgres.serverTransactionsPerSecond}/s | ${s.usage.machineBusyPercent} % |${s.verdict.saturated ? ' **saturated**' : ''}`;
}

export function ladderSummary(result: LadderResult): string {
  const lines: string[] = [];
  const m = result.machine;
  const c = result.config;
  const st = result.stack;
  lines.push(`# End-to-end benchmark (${result.when.slice(0, 10)})`, '');
  lines.push(
    `\`${result.command}\` on ${m.cpus} × ${m.cpu}, ${m.memoryGb} GB, Node ${m.node}; load average ${m.loadavg.join(' ')} at the start, ${m.loadavgEnd.join(' ')} at the end ` +
      `(a shared machine: other work ran too). ${result.totalSeconds} s in all.`,
    '',
  );
  lines.push(
    `**Stack**: the shared Kafka 3.9.1 broker, a fresh PostgreSQL database, and ${st.services.map((s) => s.name).join(', ')} as separate processes ` +
      `(\`node dist/<name>.js\`, compiled, started in ${(st.startupMs / 1000).toFixed(1)} s), sample county ×${st.sample.scale} ` +
      `(${st.sample.grids} grids, ${st.sample.districts} 台区, ${st.sample.customers} accounts). **Load**: open loop (request *i* leaves at *i*/rate whatever came back) ` +
      `of 95598 work orders (\`POST /v1/requests/95598\`, a county day's category mix, real accounts and 台区), ${c.durationMs / 1000} s per rate; fault calls get an ` +
      `ack window of ${c.breachAfterMs / 1000} s that nobody meets, so every one breaches during the run.`,
    '',
  );
  const env = Object.entries(c.serviceEnv);
  if (env.length > 0) lines.push(`**Service environment set for this run**: ${env.map(([k, v]) => `\`${k}=${v}\``).join(', ')}.`, '');
  const sat = result.saturation;
  lines.push(
    `**Saturation**: ${sat.rate !== null ? `at ${sat.rate}/s offered (${sat.reasons.join('; ')})` : `not reached (${result.stoppedBecause})`}. ` +
      `Highest rate that held: ${sat.highestSustainedRate ?? '—'}/s. **Saturation throughput** (highest end-to-end dispatches/s observed): **${sat.throughputPerSecond}/s**.`,
    '',
  );
  lines.push(
    '| offered /s | accepted /s | achieved /s | errors | HTTP 202 p50 / p99 | POST→dispatch p50 / p99 / max | breaches seen/due: lateness p50 / p99 / max | lag end of sending → after wait | PostgreSQL transactions per request · server /s | machine CPU |',
  );
  lines.push('| --: | --: | --: | --: | --: | --: | --: | --- | --: | --: |');
  for (const s of result.steps) lines.push(stepRow(s));
  lines.push('', '![latency against offered rate](e2e-latency.svg)', '');

  const names = result.steps[0] ? Object.keys(result.steps[0].usage.processes) : [];
  if (names.length > 0) {
    lines.push("CPU (% of one core, average over the rate's sending and waiting) and peak RSS per process:", '');
    lines.push(`| offered /s | ${names.join(' | ')} |`);
    lines.push(`| --: | ${names.map(() => '--:').join(' | ')} |`);
    for (const s of result.steps) {
      lines.push(`| ${s.offeredPerSecond} | ${names.map((n) => `${s.usage.processes[n]!.cpuPercent} % · ${s.usage.processes[n]!.rssMaxMb} MB`).join(' | ')} |`);
    }
    lines.push('');
  }

  const { hello, producer } = result.yardsticks;
  lines.push('**Yardsticks** (same run, after the stack stopped):', '');
  lines.push(
    'requestsPerSecond' in hello
      ? `- bare Fastify hello-world on the same route and body, autocannon ${hello.connections} connections × ${hello.durationSeconds} s: **${hello.requestsPerSecond} req/s**, p50 ${hello.p50Ms} ms, p99 ${hello.p99Ms} ms`
      : `- bare Fastify hello-world: failed (${hello.error})`,
  );
  lines.push(
    'recordsPerSecond' in producer
      ? `- \`kafka-producer-perf-test\` (kafka-tools 3.9.1, acks=all) on the same broker, ${producer.records} records of ${producer.recordSize} B (our average dispatch.assigned): **${producer.recordsPerSecond} records/s** (${producer.mbPerSecond} MB/s), p50 ${producer.p50Ms} ms, p99 ${producer.p99Ms} ms`
      : `- kafka-producer-perf-test: failed (${producer.error})`,
  );
  const r = result.ratios;
  lines.push(
    `- ratios: end-to-end saturation throughput = ${pct(r.throughputVsHelloWorld ?? null)} of the hello-world's req/s and ${pct(r.throughputVsProducerPerf ?? null)} of the raw producer's records/s; ` +
      `HTTP 202 p50 at the lowest rate = ${r.httpP50VsHelloWorldP50 ?? '—'} × the hello-world's p50 (taken as 1 ms when autocannon reports 0).`,
    '',
  );
  lines.push('**How it is measured**', '');
  lines.push(
    "- Latency starts at the request's *due* time on the open-loop schedule (so client-side queueing counts) and ends when the benchmark's own kafkajs consumer " +
      'receives the `dispatch.assigned`/`dispatch.unroutable` record for that request id (the consumer polls with a 50 ms max wait; receipt time is taken per fetched batch). ' +
      'The JSON also has the latency to the CloudEvent `time` grid-routing stamped on the event, which leaves out its outbox relay and Kafka.',
  );
  lines.push("- Breach lateness = receipt of the `sla.breaches` record − the deadline in it; the JSON also has sla-timer's own `latenessMs` at firing.");
  lines.push(
    `- A rate is saturated when end-to-end throughput (dispatches / time from the first due request to the last dispatch) is below 90 % of the offered rate, when POST→dispatch p99 is above ${formatMs(c.p99BoundMs)}, ` +
      `or when more than 1 % of requests fail. Requests not dispatched ${c.waitMs / 1000} s after the last one was sent count as slower than everything observed ("> wait"), never as the slowest seen.`,
  );
  lines.push(
    "- PostgreSQL transactions: `pg_stat_database.xact_commit` of the run's database per accepted request (every service's transactions — intake, relays, consumers, timers, deliveries, auth look-ups, polls; a statement outside a transaction counts as one), and of the whole server per second; PostgreSQL flushes these counters with a few seconds' delay, so they are approximate per rate.",
  );
  lines.push(
    "- Consumer lag per group from the broker's committed offsets (kafkajs admin); CPU and RSS from `/proc/<pid>/stat` and `status` every second. Kafka and PostgreSQL are shared with the rest of the machine, so their figures include others' work.",
  );
  lines.push('- Raw numbers: `bench/results/e2e-latest.json` (committed with this summary).', '');
  return `${lines.join('\n')}\n`;
}
