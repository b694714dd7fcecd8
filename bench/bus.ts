import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { pino } from 'pino';
import { createInProcessBus, createKafkaBus, waitForIdle, type Bus } from '@griddispatch/bus';

// Publish→consume throughput and latency of the two buses, next to a raw kafkajs producer and
// consumer on the same broker in the same run: `pnpm bench:bus`.
// Fairness: the same records (count, size, keys, batches) for all three; the raw client uses the
// bus's producer settings (idempotent, acks=all, one request in flight) and consumer settings
// (3 partitions handled concurrently, offsets committed after each batch by kafkajs' autoCommit).
// Two phases per transport: "flood" publishes as fast as sequential awaited batches allow
// (throughput; latency then includes queueing), "paced" publishes at a fixed moderate rate
// (latency of a record in a quiet system).

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const FLOOD = Number(process.env.BENCH_BUS_MESSAGES ?? 20_000);
const PACED = Number(process.env.BENCH_BUS_PACED_MESSAGES ?? 2_000);
const PACED_RATE = Number(process.env.BENCH_BUS_PACED_RATE ?? 1_000); // records per second
const ROUNDS = Number(process.env.BENCH_BUS_ROUNDS ?? 3);
const BATCH = 100;
const PACED_BATCH = 10;
const SIZE = 512;
const KEYS = 64;
const PARTITIONS = 3;
const DEADLINE_MS = 110_000;

const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const runId = randomBytes(3).toString('hex');

interface Phase {
  records: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface Result {
  transport: string;
  flood: Phase;
  paced: Phase;
}

/** A uniform way to drive all three transports. */
interface Transport {
  name: string;
  /** Starts consuming; `onRecord` gets each record's value. Resolves once the consumer joined. */
  start(topic: string, onRecord: (value: Buffer) => void): Promise<void>;
  publish(topic: string, records: { key: string; value: string }[]): Promise<void>;
  stop(): Promise<void>;
}

function record(seq: number, sentAt: number): string {
  const head = `${seq}|${sentAt.toFixed(3)}|`;
  return head + 'x'.repeat(SIZE - head.length);
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function runPhase(transport: Transport, topic: string, count: number, pace: { batch: number; intervalMs: number } | null): Promise<Phase> {
  const latencies = new Float64Array(count);
  let received = 0;
  let lastAt = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  await transport.start(topic, (value) => {
    const text = value.toString('latin1', 0, 40);
    const [seqText, sentText] = text.split('|');
    const seq = Number(seqText);
    if (seq < 0) return; // warm-up record
    latencies[seq] = performance.now() - Number(sentText);
    received += 1;
    lastAt = performance.now();
    if (received === count) done();
  });

  // Warm-up: the producer's connection and the topic's metadata are not part of the figures.
  await transport.publish(topic, [{ key: 'warm-up', value: record(-1, performance.now()) }]);

  const batch = pace?.batch ?? BATCH;
  const started = performance.now();
  for (let first = 0; first < count; first += batch) {
    if (pace) {
      const due = started + (first / batch) * pace.intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const now = performance.now();
    const records = [];
    for (let seq = first; seq < Math.min(count, first + batch); seq += 1) records.push({ key: `key-${seq % KEYS}`, value: record(seq, now) });
    await transport.publish(topic, records);
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    finished,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${transport.name}: only ${received}/${count} records arrived`)), 60_000);
    }),
  ]).finally(() => clearTimeout(timer));
  await transport.stop();
  const sorted = latencies.slice().sort();
  const seconds = (lastAt - started) / 1000;
  return {
    records: count,
    seconds: round(seconds, 3),
    perSecond: Math.round(count / seconds),
    p50Ms: round(percentile(sorted, 50), 2),
    p99Ms: round(percentile(sorted, 99), 2),
    maxMs: round(sorted[sorted.length - 1] ?? NaN, 2),
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function busTransport(name: string, makeBus: () => Bus): Transport {
  let bus: Bus | null = null;
  let phase = 0;
  return {
    name,
    async start(topic, onRecord) {
      bus = makeBus();
      phase += 1;
      await bus.subscribe({ groupId: `bench-${runId}-${name}-${phase}`, topics: [topic], handler: async (m) => onRecord(m.value) });
    },
    async publish(topic, records) {
      await bus?.publish(topic, records);
    },
    async stop() {
      if (bus) await waitForIdle(bus, { timeoutMs: 30_000 });
      await bus?.close();
      bus = null;
    },
  };
}

function rawKafkajsTransport(): Transport {
  const kafka = new Kafka({ clientId: `bench-raw-${runId}`, brokers, logLevel: logLevel.WARN });
  let phase = 0;
  let producer: ReturnType<Kafka['producer']> | null = null;
  let consumer: ReturnType<Kafka['consumer']> | null = null;
  return {
    name: 'raw kafkajs',
    async start(topic, onRecord) {
      phase += 1;
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }] });
      await admin.disconnect();
      producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      consumer = kafka.consumer({ groupId: `bench-${runId}-raw-${phase}`, sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 500 });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ partitionsConsumedConcurrently: PARTITIONS, eachMessage: async ({ message }) => onRecord(message.value ?? Buffer.alloc(0)) });
    },
    async publish(topic, records) {
      await producer?.send({ topic, acks: -1, messages: records });
    },
    async stop() {
      await consumer?.disconnect();
      await producer?.disconnect();
    },
  };
}

async function measure(transport: Transport, round: number, topicFor: (phase: string) => string): Promise<Result> {
  const began = performance.now();
  process.stdout.write(`  round ${round} ${transport.name}: flood ${FLOOD}… `);
  const flood = await runPhase(transport, topicFor(`flood${round}`), FLOOD, null);
  process.stdout.write(`${flood.perSecond}/s; paced ${PACED} at ${PACED_RATE}/s… `);
  const paced = await runPhase(transport, topicFor(`paced${round}`), PACED, { batch: PACED_BATCH, intervalMs: (1000 * PACED_BATCH) / PACED_RATE });
  console.log(`p50 ${paced.p50Ms} ms (${((performance.now() - began) / 1000).toFixed(1)} s)`);
  return { transport: transport.name, flood, paced };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

interface Summary {
  transport: string;
  floodPerSecond: number;
  floodPerSecondRange: [number, number];
  floodP50Ms: number;
  floodP99Ms: number;
  pacedP50Ms: number;
  pacedP99Ms: number;
}

/** Medians over the rounds: the machine is shared, one round alone says little. */
function summarize(name: string, rounds: Result[]): Summary {
  const flood = rounds.map((r) => r.flood.perSecond);
  return {
    transport: name,
    floodPerSecond: Math.round(median(flood)),
    floodPerSecondRange: [Math.min(...flood), Math.max(...flood)],
    floodP50Ms: round(median(rounds.map((r) => r.flood.p50Ms)), 2),
    floodP99Ms: round(median(rounds.map((r) => r.flood.p99Ms)), 2),
    pacedP50Ms: round(median(rounds.map((r) => r.paced.p50Ms)), 2),
    pacedP99Ms: round(median(rounds.map((r) => r.paced.p99Ms)), 2),
  };
}

function table(summaries: Summary[]): string {
  const header = ['transport', 'flood msg/s', '(min–max)', 'flood p50 ms', 'flood p99 ms', `paced ${PACED_RATE}/s p50 ms`, 'paced p99 ms'];
  const rows = summaries.map((r) => [
    r.transport,
    String(r.floodPerSecond),
    `${r.floodPerSecondRange[0]}–${r.floodPerSecondRange[1]}`,
    String(r.floodP50Ms),
    String(r.floodP99Ms),
    String(r.pacedP50Ms),
    String(r.pacedP99Ms),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error(`bench/bus.ts: gave up after ${DEADLINE_MS / 1000}s`);
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();
  const prefix = `bench.${runId}.`;
  console.log(
    `bus benchmark: ${ROUNDS} rounds of ${FLOOD} + ${PACED} records of ${SIZE} B, ${KEYS} keys, ${PARTITIONS} partitions, batches of ${BATCH}/${PACED_BATCH}; Kafka at ${brokers.join(',')}`,
  );

  const transports: [Transport, (phase: string) => string][] = [
    [busTransport('in-process bus', () => createInProcessBus({ prefix, logger, partitions: PARTITIONS })), (p) => `inproc.${p}`],
    [busTransport('kafka bus', () => createKafkaBus({ brokers, prefix, clientId: `bench-bus-${runId}`, logger })), (p) => `bus.${p}`],
    [rawKafkajsTransport(), (p) => `${prefix}raw.${p}`],
  ];
  const byTransport = new Map<string, Result[]>(transports.map(([t]) => [t.name, []]));
  for (let round = 1; round <= ROUNDS; round += 1) {
    // Rotate the order so no transport always runs right after the same neighbour.
    for (let i = 0; i < transports.length; i += 1) {
      const [transport, topicFor] = transports[(i + round - 1) % transports.length] as [Transport, (phase: string) => string];
      byTransport.get(transport.name)?.push(await measure(transport, round, topicFor));
    }
  }
  const summaries = [...byTransport].map(([name, rounds]) => summarize(name, rounds));
  const [inProcess, bus, raw] = summaries as [Summary, Summary, Summary];
  const ratios = {
    kafkaBusVsRawThroughput: round(bus.floodPerSecond / raw.floodPerSecond, 2),
    kafkaBusVsRawPacedP50: round(bus.pacedP50Ms / raw.pacedP50Ms, 2),
    kafkaBusVsRawPacedP99: round(bus.pacedP99Ms / raw.pacedP99Ms, 2),
    inProcessVsKafkaBusThroughput: round(inProcess.floodPerSecond / bus.floodPerSecond, 1),
  };
  console.log(
    `\nmedians of ${ROUNDS} rounds (load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${cpus().length} CPUs):\n${table(summaries)}\n`,
  );
  console.log(
    `kafka bus / raw kafkajs: throughput ×${ratios.kafkaBusVsRawThroughput}, paced p50 ×${ratios.kafkaBusVsRawPacedP50}, paced p99 ×${ratios.kafkaBusVsRawPacedP99}`,
  );
  console.log(`in-process bus / kafka bus: throughput ×${ratios.inProcessVsKafkaBusThroughput}`);

  await deleteBenchTopics(prefix);
  const out = new URL('./results/bus.json', import.meta.url).pathname;
  mkdirSync(new URL('./results/', import.meta.url).pathname, { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        benchmark: 'bus publish→consume',
        at: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        brokers,
        parameters: {
          rounds: ROUNDS,
          flood: FLOOD,
          paced: PACED,
          pacedRatePerSecond: PACED_RATE,
          batch: BATCH,
          pacedBatch: PACED_BATCH,
          recordBytes: SIZE,
          keys: KEYS,
          partitions: PARTITIONS,
        },
        loadAverage: loadavg(),
        summaries,
        rounds: Object.fromEntries(byTransport),
        ratios,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${out}`);
}

/** The benchmark's topics would otherwise pile up on a shared broker. */
async function deleteBenchTopics(prefix: string): Promise<void> {
  const admin = new Kafka({ clientId: `bench-cleanup-${runId}`, brokers, logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } catch (err) {
    console.warn(`could not delete the benchmark topics (${prefix}*): ${(err as Error).message}`);
  } finally {
    await admin.disconnect();
  }
}

await main();
