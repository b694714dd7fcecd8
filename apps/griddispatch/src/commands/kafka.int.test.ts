import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { createKafkaBus, type Bus, type IncomingMessage, type Subscription } from '@griddispatch/bus';
import { buildEvent, parseEvent, serializeEvent, type CloudEvent } from '@griddispatch/contracts';
import { testGroupId, testTopicPrefix } from '@griddispatch/testkit';
import { dlq, REPLAYED_FROM_HEADER } from './dlq.ts';
import { REPLAY_GROUP } from './dlq-state.ts';
import { tail } from './tail.ts';
import { eventually, testIo } from './test-io.ts';
import { dispatchAssigned } from './test-fixtures.ts';

// `dlq list/replay` and `tail` against the real broker: dead letters made by a real Bus consumer
// (a poison record, and an event whose handler kept failing), replayed back to the consumer.

const prefix = testTopicPrefix();
const brokers = process.env.KAFKA_BROKERS!;
const env = { KAFKA_BROKERS: brokers, GD_TOPIC_PREFIX: prefix, GD_TIME_ZONE: 'Asia/Shanghai' };
const kafka = new Kafka({ clientId: 'cli-test', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
const admin = kafka.admin();

let bus: Bus;
let consumer: Subscription;
let breachConsumer: Subscription;
const handled: IncomingMessage[] = [];
/** The handler fails for this work order until the test "deploys the fix". */
let brokenWorkOrder: string | null = null;

const now = new Date();
const ids = ['0a11c0de-0000-4000-8000-000000000001', '0a11c0de-0000-4000-8000-000000000002', '0a11c0de-0000-4000-8000-000000000003'];
const events: CloudEvent[] = ids.map((id, i) =>
  buildEvent({
    type: 'cn.griddispatch.dispatch.assigned.v1',
    source: 'grid-routing',
    subject: id,
    data: dispatchAssigned({
      workOrderId: id,
      at: now,
      ...(i === 2 ? { grid: { id: 'HH-G01', name: '后湖1号网格', kind: 'district', areaType: 'rural', areaId: 'HH' } } : {}),
    }),
    time: new Date(now.getTime() + i * 1000),
  }),
);

async function run(command: typeof dlq, args: string[]) {
  const t = testIo({ env });
  const code = await command(args, t.io);
  return { code, out: t.stdout(), err: t.stderr() };
}

async function dlqSize(): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(`${prefix}dispatch.assigned.dlq`).catch(() => []);
  return offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
}

beforeAll(async () => {
  await admin.connect();
  bus = createKafkaBus({ brokers, prefix, clientId: 'cli-test', logger: pino({ level: 'silent' }) });
  brokenWorkOrder = ids[1]!;
  consumer = await bus.subscribe({
    groupId: testGroupId('dispatch-consumer'),
    topics: ['dispatch.assigned'],
    maxAttempts: 2,
    retryBackoffMs: 10,
    handler: async (message) => {
      const event = parseEvent(message.value);
      if (event.subject === brokenWorkOrder) throw new Error(`grid ${(event.data as { grid: { id: string } }).grid.id} has no roster yet`);
      handled.push(message);
    },
  });
  // Subscribing creates sla.breaches.dlq, empty: nothing fails there.
  breachConsumer = await bus.subscribe({ groupId: testGroupId('breach-consumer'), topics: ['sla.breaches'], handler: async () => undefined });
  await bus.publish('dispatch.assigned', [
    ...events.map((e) => ({ key: 'HH-G03', value: serializeEvent(e) })),
    { key: 'HH-G03', value: 'definitely not JSON' },
    { key: 'HH-G03', value: JSON.stringify({ specversion: '1.0', id: 'x' }) },
  ]);
  await bus.publish('sla.breaches', [
    {
      key: ids[0]!,
      value: serializeEvent(
        buildEvent({
          type: 'cn.griddispatch.sla.breached.v1',
          source: 'sla-timer',
          subject: ids[0]!,
          data: {
            workOrderId: ids[0]!,
            gridId: 'HH-G03',
            policy: 'aquaculture-circle',
            stage: 'ack',
            deadline: new Date(now.getTime() + 5 * 60_000).toISOString(),
            latenessMs: 120_000,
            level: 1,
            notify: ['assistant'],
            late: false,
          },
          time: new Date(now.getTime() + 7 * 60_000),
        }),
      ),
    },
  ]);
  await eventually(() => handled.length === 2, 'the two good events handled');
  const deadline = Date.now() + 20_000;
  while ((await dlqSize()) < 3) {
    if (Date.now() > deadline) throw new Error('dead letters did not arrive');
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  await consumer?.stop();
  await breachConsumer?.stop();
  await bus?.close();
  await admin.disconnect();
});

describe('griddispatch dlq', () => {
  it('lists the dead letters with offset, key, event, attempts, source offset, error and replay state', async () => {
    const { code, out } = await run(dlq, ['list', 'dispatch.assigned']);
    expect(code).toBe(0);
    expect(out).toContain(`${prefix}dispatch.assigned.dlq: 3 records, 0 of those replayed`);
    const rows = out.trim().split('\n').slice(2);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^0\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+HH-G03\s+dispatch\.assigned\s+2\s+\d@\d+\s+Error: grid HH-G03 has no roster yet\s+no$/);
    expect(rows[1]).toMatch(/^1\s.*\(not JSON\)\s+1\s+\d@\d+\s+InvalidEventError: record value is not JSON/);
    expect(rows[2]).toMatch(/^2\s.*\(no type\)\s+1\s+.*InvalidEventError: not a CloudEvents 1\.0 envelope/);
  });

  it('lists every DLQ when no topic is given, the empty ones briefly', async () => {
    const { code, out } = await run(dlq, ['list']);
    expect(code).toBe(0);
    expect(out).toContain(`${prefix}dispatch.assigned.dlq: 3 records`);
    expect(out).toContain(`${prefix}sla.breaches.dlq: empty`);
  });

  it('dry-runs a replay without publishing or committing', async () => {
    const { code, out } = await run(dlq, ['replay', 'dispatch.assigned', '--offset', '0', '--dry-run']);
    expect(code).toBe(0);
    expect(out).toContain(`dry run: would replay 1 record from ${prefix}dispatch.assigned.dlq to ${prefix}dispatch.assigned`);
    const [committed] = await admin.fetchOffsets({ groupId: REPLAY_GROUP, topics: [`${prefix}dispatch.assigned.dlq`] });
    expect(committed?.partitions[0]?.offset).toBe('-1');
    expect(handled).toHaveLength(2);
  });

  it('replays one record, once: the fixed consumer handles it, with key and value unchanged', async () => {
    brokenWorkOrder = null; // the fix is deployed
    const first = await run(dlq, ['replay', 'dispatch.assigned', '--offset', '0']);
    expect(first.code).toBe(0);
    expect(first.out).toContain(`replayed 1 record from ${prefix}dispatch.assigned.dlq to ${prefix}dispatch.assigned`);
    await eventually(() => handled.length === 3, 'the replayed event handled');
    const replayed = handled[2]!;
    expect(replayed.key).toBe('HH-G03');
    expect(replayed.value.toString()).toBe(serializeEvent(events[1]!));
    expect(replayed.headers[REPLAYED_FROM_HEADER]).toBe(`${prefix}dispatch.assigned.dlq:0:0`);
    expect(Object.keys(replayed.headers).filter((h) => h.startsWith('x-dlq-') && h !== REPLAYED_FROM_HEADER)).toEqual([]);

    const again = await run(dlq, ['replay', 'dispatch.assigned', '--offset', '0']);
    expect(again.code).toBe(0);
    expect(again.out).toContain('was replayed before; nothing to do');
  });

  it('replays the rest with --all, skipping what was replayed, and lists them as replayed', async () => {
    const all = await run(dlq, ['replay', 'dispatch.assigned.dlq', '--all']);
    expect(all.code).toBe(0);
    expect(all.out).toContain('replayed 2 records');
    // The two poison records are still poison: back on the DLQ, as new dead letters.
    const deadline = Date.now() + 20_000;
    while ((await dlqSize()) < 5) {
      if (Date.now() > deadline) throw new Error('replayed poison records did not come back to the DLQ');
      await new Promise((r) => setTimeout(r, 100));
    }
    const { out } = await run(dlq, ['list', 'dispatch.assigned']);
    expect(out).toContain('5 records, 3 of those replayed');
    const replayedColumn = out
      .trim()
      .split('\n')
      .slice(2)
      .map((row) => row.trim().split(/\s+/).at(-1));
    expect(replayedColumn).toEqual(['yes', 'yes', 'yes', 'no', 'no']);
    const [committed] = await admin.fetchOffsets({ groupId: REPLAY_GROUP, topics: [`${prefix}dispatch.assigned.dlq`] });
    expect(committed?.partitions[0]?.offset).toBe('3');

    const nothing = await run(dlq, ['replay', 'dispatch.assigned', '--offset', '1']);
    expect(nothing.out).toContain('was replayed before');
  });

  it('rejects bad usage with exit code 2 and a missing offset with a clear error', async () => {
    expect((await run(dlq, ['replay', 'dispatch.assigned'])).code).toBe(2);
    expect((await run(dlq, ['replay', 'dispatch.assigned', '--all', '--offset', '1'])).code).toBe(2);
    expect((await run(dlq, ['list', 'nope'])).code).toBe(2);
    expect((await run(dlq, ['purge'])).code).toBe(2);
    const missing = await run(dlq, ['replay', 'dispatch.assigned', '--offset', '99']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('offset 99 is not in');
  });
});

describe('griddispatch tail', () => {
  async function tailUntil(args: string[], lines: number): Promise<string[]> {
    const t = testIo({ env });
    const running = tail(args, t.io);
    await eventually(() => t.stdout().split('\n').filter(Boolean).length >= lines, `${lines} lines from tail ${args.join(' ')}`, 30_000);
    // Anything beyond what was asked for would show up now.
    await new Promise((r) => setTimeout(r, 500));
    t.abort();
    expect(await running).toBe(0);
    return t.stdout().split('\n').filter(Boolean);
  }

  it('prints one readable line per event from the beginning, deadlines and names included, and commits nothing', async () => {
    const lines = await tailUntil(['dispatch.assigned', 'sla.breaches', '--from-beginning'], 9);
    // 3 events + 2 poison records, the replay of event 2 and of the 2 poison records, and the breach.
    expect(lines).toHaveLength(9);
    const dispatches = lines.filter((l) => l.includes('派单'));
    expect(dispatches).toHaveLength(4);
    expect(dispatches[0]).toMatch(
      /^\d\d:\d\d:\d\d {2}后湖3号网格 {2}0a11c0de {2}派单 后湖3号网格 → 张\*\* \(manager\), 李\* \(assistant\) · 故障报修 · aquaculture-circle · 响应截止 \d\d:\d\d \(剩余 [1-4]m\)$/,
    );
    expect(lines.filter((l) => l.includes('无法解析'))).toHaveLength(4);
    // Two topics have no order between them: the grid's name shows once a dispatch taught it, else its id.
    expect(lines.find((l) => l.includes('超时 L1'))).toMatch(
      /(后湖3号网格|HH-G03) {2}0a11c0de {2}超时 L1 响应截止 \d\d:\d\d \(已超 2m\) · aquaculture-circle · 通知 assistant$/,
    );
    expect(lines.join('\n')).not.toMatch(/张国强|王小明|13812345678/);

    const groups = (await admin.listGroups()).groups.filter((g) => g.groupId.startsWith(`griddispatch-tail-${hostname()}-${process.pid}-`));
    for (const g of groups) {
      const [offsets] = await admin.fetchOffsets({ groupId: g.groupId, topics: [`${prefix}dispatch.assigned`] });
      expect(offsets?.partitions.every((p) => p.offset === '-1')).toBe(true);
    }
  });

  it('filters by grid and prints raw CloudEvents with --json', async () => {
    const lines = await tailUntil(['dispatch.assigned', '--from-beginning', '--grid', 'HH-G01', '--json'], 1);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual(events[2]);
  });

  it('says that it needs Kafka in the embedded mode, and points to requests list', async () => {
    const t = testIo({ env: {} });
    expect(await tail(['dispatch.assigned'], t.io)).toBe(1);
    expect(t.stderr()).toContain('KAFKA_BROKERS is not set');
    expect(t.stderr()).toContain('griddispatch requests list');
  });

  it('fails clearly on a topic that does not exist under the prefix', async () => {
    const t = testIo({ env: { ...env, GD_TOPIC_PREFIX: `${prefix}other.` } });
    expect(await tail(['dispatch.unroutable'], t.io)).toBe(1);
    expect(t.stderr()).toContain(`topic ${prefix}other.dispatch.unroutable does not exist`);
  });
});
