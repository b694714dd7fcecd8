import { spawn, spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { kafkaClient } from './kafka.ts';

// What this machine does without our code, measured in the same run so the ratios mean something:
//   - HTTP: a bare Fastify hello-world (hello-server.ts) driven by autocannon with the same body;
//   - Kafka: Apache Kafka's own kafka-producer-perf-test (org.apache.kafka.tools.ProducerPerformance
//     from kafka-tools 3.9.1, the broker's version) on the same broker, records the size of our events.

const ROOT = new URL('../../', import.meta.url).pathname;
const TOOLS_VERSION = '3.9.1';
const TOOLS_LIB = join(ROOT, 'infra', 'kafka', '.cache', `tools-${TOOLS_VERSION}`);
const LOG4J = join(ROOT, 'infra', 'kafka', 'log4j.properties');

export interface HelloResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  connections: number;
  durationSeconds: number;
}

export async function helloYardstick(body: unknown, seconds: number, connections = 20): Promise<HelloResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'e2e', 'hello-server.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let text = '';
      child.stdout!.on('data', (c: Buffer) => {
        text += c.toString();
        const m = /^(\d+)\n/.exec(text);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`hello-world server exited (code ${code})`)));
    });
    const run = (duration: number) =>
      autocannon({
        url: `http://127.0.0.1:${port}/v1/requests/95598`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        connections,
        duration,
      });
    await run(1); // JIT warm-up, not reported
    const r = await run(seconds);
    return {
      requestsPerSecond: Math.round(r.requests.average),
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      maxMs: r.latency.max,
      non2xx: r.non2xx,
      errors: r.errors,
      connections,
      durationSeconds: seconds,
    };
  } finally {
    child.kill('SIGTERM');
  }
}

export interface ProducerPerfResult {
  records: number;
  recordSize: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  avgLatencyMs: number;
  maxLatencyMs: number;
  p50Ms: number;
  p99Ms: number;
  command: string;
}

/** The summary line kafka-producer-perf-test prints last. */
export function parseProducerPerf(output: string): Omit<ProducerPerfResult, 'recordSize' | 'command'> | null {
  const re =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/g;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(output); m; m = re.exec(output)) last = m;
  if (!last) return null;
  return {
    records: Number(last[1]),
    recordsPerSecond: Math.round(Number(last[2])),
    mbPerSecond: Number(last[3]),
    avgLatencyMs: Number(last[4]),
    maxLatencyMs: Number(last[5]),
    p50Ms: Number(last[6]),
    p99Ms: Number(last[8]),
  };
}

/** kafka-tools and its dependencies from Maven Central, once, into infra/kafka/.cache (gitignored). */
export function ensureKafkaTools(say: (line: string) => void): string {
  if (existsSync(join(TOOLS_LIB, `.complete-${TOOLS_VERSION}`))) return TOOLS_LIB;
  say(`fetching kafka-tools ${TOOLS_VERSION} (kafka-producer-perf-test) from Maven Central with mvn (first run only)...`);
  const tmp = `${TOOLS_LIB}.tmp.${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const mvn = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-Dstyle.color=never',
      '-f',
      join(ROOT, 'bench', 'e2e', 'pom.xml'),
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${tmp}`,
    ],
    { stdio: 'inherit' },
  );
  if (mvn.status !== 0) throw new Error('mvn could not fetch kafka-tools (Java 17 and Maven are needed; see the output above)');
  rmSync(TOOLS_LIB, { recursive: true, force: true });
  renameSync(tmp, TOOLS_LIB);
  writeFileSync(join(TOOLS_LIB, `.complete-${TOOLS_VERSION}`), '');
  return TOOLS_LIB;
}

export async function producerPerfYardstick(options: {
  brokers: string[];
  topic: string;
  records: number;
  recordSize: number;
  say: (line: string) => void;
}): Promise<ProducerPerfResult> {
  const lib = ensureKafkaTools(options.say);
  const args = [
    `-Dlog4j.configuration=file:${LOG4J}`,
    '-Xmx512m',
    '-cp',
    `${lib}/*`,
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    options.topic,
    '--num-records',
    String(options.records),
    '--record-size',
    String(options.recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${options.brokers.join(',')}`,
    'acks=all',
  ];
  // Our producers (the outbox relays) write to topics with several partitions: so does the yardstick.
  const admin = kafkaClient(options.brokers, 'bench-e2e-yardstick').admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: options.topic, numPartitions: 6, replicationFactor: 1 }], waitForLeaders: false });
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString()));
      child.stderr.on('data', (c: Buffer) => (text += c.toString()));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`ProducerPerformance exited with ${code}:\n${text.slice(-2000)}`))));
    });
    const parsed = parseProducerPerf(output);
    if (!parsed) throw new Error(`no summary line in ProducerPerformance's output:\n${output.slice(-2000)}`);
    return {
      ...parsed,
      recordSize: options.recordSize,
      command: `java -cp 'infra/kafka/.cache/tools-${TOOLS_VERSION}/*' org.apache.kafka.tools.ProducerPerformance ${args.slice(5).join(' ')}`,
    };
  } finally {
    await admin.deleteTopics({ topics: [options.topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}
