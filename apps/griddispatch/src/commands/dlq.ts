import { Partitioners, type Admin, type Kafka } from 'kafkajs';
import { DlqHeaders } from '@griddispatch/bus';
import { ALL_TOPICS, EventTypes, dlqTopic, type EventType } from '@griddispatch/contracts';
import {
  advance,
  encodeMetadata,
  isReplayed,
  MAX_METADATA_CHARS,
  planReplay,
  REPLAY_GROUP,
  replayState,
  type ReplayState,
  type Selection,
} from './dlq-state.ts';
import { dateTime, painter, renderTable, truncateDisplay } from './format.ts';
import { CliError, intOption, loadCliConfig, runCommand, UsageError, type CliConfig, type CliIo } from './io.ts';
import {
  connectAdmin,
  createKafka,
  headerStrings,
  logicalTopic,
  readRanges,
  requireBrokers,
  requireTopics,
  throwawayGroupId,
  watermarks,
  type PartitionRange,
  type ReadRecord,
} from './kafka.ts';

export const DLQ_USAGE = `usage: griddispatch dlq list [<topic>] [--limit N]
       griddispatch dlq replay <topic> (--offset O [--partition P] | --all) [--dry-run]

Dead letters: records a consumer gave up on, on <prefix><topic>.dlq with the error in headers.

  list [<topic>]     the latest dead letters of one topic's DLQ (or of every DLQ): offset, time,
                     key, event type, attempts, source offset, error, and whether it was replayed
    --limit N        per DLQ (default 50)
  replay <topic>     publishes dead letters back to <topic>, with their key and value unchanged,
                     and records them in the consumer group "${REPLAY_GROUP}" on the
                     DLQ, so each record is replayed once
    --offset O       the record at offset O (on --partition P, default 0)
    --all            every record not replayed yet
    --dry-run        show what would be replayed; publish and commit nothing

<topic> is a logical name (dispatch.assigned, sla.breaches, …; "<topic>.dlq" is accepted too).
Needs KAFKA_BROKERS (and GD_TOPIC_PREFIX when not "griddispatch.").
`;

/** A read of a DLQ stops waiting after this long. */
const READ_TIMEOUT_MS = 20_000;
export const REPLAYED_FROM_HEADER = 'x-dlq-replayed-from';

interface DlqContext {
  config: CliConfig;
  kafka: Kafka;
  admin: Admin;
  io: CliIo;
}

/** Committed position and metadata of the replay group on every partition of a DLQ. */
async function replayStates(admin: Admin, dlq: string, marks: { partition: number; low: number }[]): Promise<Map<number, ReplayState>> {
  const [offsets] = await admin.fetchOffsets({ groupId: REPLAY_GROUP, topics: [dlq] });
  const states = new Map<number, ReplayState>();
  for (const m of marks) {
    const p = offsets?.partitions.find((x) => x.partition === m.partition);
    states.set(m.partition, replayState(Number(p?.offset ?? -1), p?.metadata ?? null, m.low));
  }
  return states;
}

function eventType(value: Buffer | null): string {
  if (!value) return '(empty)';
  try {
    const type = (JSON.parse(value.toString('utf8')) as { type?: unknown }).type;
    if (typeof type === 'string') return type in EventTypes ? EventTypes[type as EventType].short : type;
    return '(no type)';
  } catch {
    return '(not JSON)';
  }
}

function renderDlqRecords(records: ReadRecord[], states: Map<number, ReplayState>, ctx: DlqContext, multiPartition: boolean): string {
  const paint = painter(ctx.io.stdout.isTTY === true);
  const rows = records.map(({ partition, offset, message }) => {
    const h = headerStrings(message);
    const failedAt = h[DlqHeaders.failedAt] ?? new Date(Number(message.timestamp)).toISOString();
    const state = states.get(partition);
    return [
      multiPartition ? `${partition}:${offset}` : String(offset),
      dateTime(new Date(failedAt), ctx.config.timeZone),
      truncateDisplay(message.key?.toString() ?? '—', 36),
      eventType(message.value),
      h[DlqHeaders.attempts] ?? '?',
      h[DlqHeaders.sourceOffset] ? `${h[DlqHeaders.sourcePartition] ?? '?'}@${h[DlqHeaders.sourceOffset]}` : '—',
      // The bus writes the error as `<name>: <message>`.
      paint('red', truncateDisplay(h[DlqHeaders.error] ?? '(no error header)', 70)),
      state && isReplayed(state, offset) ? paint('green', 'yes') : 'no',
    ];
  });
  return renderTable(['OFFSET', 'FAILED AT', 'KEY', 'EVENT', 'ATTEMPTS', 'SOURCE', 'ERROR', 'REPLAYED'], rows, paint);
}

async function listOne(ctx: DlqContext, logical: string, limit: number, required: boolean): Promise<number> {
  const dlq = `${ctx.config.topicPrefix}${dlqTopic(logical)}`;
  const existing = new Set(await ctx.admin.listTopics());
  if (!existing.has(dlq)) {
    if (required) throw new CliError(`topic ${dlq} does not exist on the broker (GD_TOPIC_PREFIX is "${ctx.config.topicPrefix}")`);
    return 0;
  }
  const marks = await watermarks(ctx.admin, dlq);
  const total = marks.reduce((n, m) => n + (m.high - m.low), 0);
  if (total === 0) {
    ctx.io.stdout.write(`${dlq}: empty\n`);
    return 0;
  }
  const ranges: PartitionRange[] = marks.map((m) => ({ partition: m.partition, from: Math.max(m.low, m.high - limit), to: m.high }));
  const records = await readRanges({
    kafka: ctx.kafka,
    topic: dlq,
    groupId: throwawayGroupId('dlq-list'),
    ranges,
    timeoutMs: READ_TIMEOUT_MS,
    signal: ctx.io.signal,
  });
  // The latest `limit` over all partitions, oldest first.
  const shown = records
    .sort((a, b) => Number(a.message.timestamp) - Number(b.message.timestamp) || a.partition - b.partition || a.offset - b.offset)
    .slice(-limit);
  const states = await replayStates(ctx.admin, dlq, marks);
  const replayed = shown.filter((r) => isReplayed(states.get(r.partition)!, r.offset)).length;
  ctx.io.stdout.write(
    `${dlq}: ${total} record${total === 1 ? '' : 's'}${shown.length < total ? `, latest ${shown.length} shown` : ''}, ${replayed} of those replayed\n`,
  );
  ctx.io.stdout.write(renderDlqRecords(shown, states, ctx, marks.length > 1));
  return total;
}

async function list(ctx: DlqContext, positionals: string[], limitText: string | undefined): Promise<number> {
  if (positionals.length > 1) throw new UsageError('dlq list takes at most one topic');
  const limit = intOption('limit', limitText, 50, { min: 1, max: 10_000 });
  if (positionals[0] !== undefined) {
    await listOne(ctx, logicalTopic(positionals[0], ctx.config.topicPrefix).replace(/\.dlq$/, ''), limit, true);
    return 0;
  }
  let total = 0;
  for (const topic of ALL_TOPICS) {
    if (total > 0) ctx.io.stdout.write('\n');
    total += await listOne(ctx, topic, limit, false);
  }
  if (total === 0) ctx.io.stdout.write(`no dead letters (prefix "${ctx.config.topicPrefix}")\n`);
  return 0;
}

function replayHeaders(message: ReadRecord['message'], from: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(headerStrings(message))) if (!name.startsWith('x-dlq-')) headers[name] = value;
  headers[REPLAYED_FROM_HEADER] = from;
  return headers;
}

interface ReplayArgs {
  positionals: string[];
  offset?: string | undefined;
  partition?: string | undefined;
  all?: boolean | undefined;
  dryRun: boolean;
}

async function replay(ctx: DlqContext, a: ReplayArgs): Promise<number> {
  if (a.positionals.length !== 1) throw new UsageError('dlq replay needs exactly one topic');
  if ((a.offset === undefined) === (a.all !== true)) throw new UsageError('dlq replay needs either --offset O or --all');
  if (a.partition !== undefined && a.offset === undefined) throw new UsageError('--partition goes with --offset');
  const logical = logicalTopic(a.positionals[0]!, ctx.config.topicPrefix).replace(/\.dlq$/, '');
  const selection: Selection = a.all ? { all: true } : { offset: intOption('offset', a.offset, 0) };
  const onlyPartition = a.offset !== undefined ? intOption('partition', a.partition, 0) : undefined;

  const prefix = ctx.config.topicPrefix;
  const dlq = `${prefix}${dlqTopic(logical)}`;
  const source = `${prefix}${logical}`;
  await requireTopics(ctx.admin, [dlq, source], prefix);
  const marks = await watermarks(ctx.admin, dlq);
  if (onlyPartition !== undefined && !marks.some((m) => m.partition === onlyPartition)) {
    throw new CliError(`${dlq} has no partition ${onlyPartition} (partitions ${marks.map((m) => m.partition).join(', ')})`);
  }
  const states = await replayStates(ctx.admin, dlq, marks);
  const plans = marks
    .filter((m) => onlyPartition === undefined || m.partition === onlyPartition)
    .map((m) => ({ ...m, plan: planReplay(states.get(m.partition)!, m.low, m.high, selection) }));

  if ('offset' in selection) {
    const p = plans[0]!;
    if (p.plan.already.length > 0) {
      ctx.io.stdout.write(`offset ${selection.offset} of ${dlq} was replayed before; nothing to do\n`);
      return 0;
    }
    if (p.plan.offsets.length === 0)
      throw new CliError(`offset ${selection.offset} is not in ${dlq} partition ${p.partition} (offsets ${p.low}–${p.high - 1})`);
  }
  const wanted = plans.reduce((n, p) => n + p.plan.offsets.length, 0);
  const skipped = plans.reduce((n, p) => n + p.plan.already.length, 0);
  if (wanted === 0) {
    ctx.io.stdout.write(`nothing to replay on ${dlq}${skipped > 0 ? ` (${skipped} already replayed)` : ''}\n`);
    return 0;
  }
  const next = new Map(plans.map((p) => [p.partition, advance(states.get(p.partition)!, p.plan.offsets)]));
  for (const [partition, state] of next) {
    if (encodeMetadata(state).length > MAX_METADATA_CHARS) {
      throw new CliError(
        `too many records of ${dlq} partition ${partition} were replayed one by one above offset ${state.committed}; replay the rest with --all`,
      );
    }
  }

  const ranges: PartitionRange[] = plans
    .filter((p) => p.plan.offsets.length > 0)
    .map((p) => ({ partition: p.partition, from: p.plan.offsets[0]!, to: p.plan.offsets.at(-1)! + 1 }));
  const selected = (records: ReadRecord[]) => {
    const chosen = records.filter((r) => plans.find((p) => p.partition === r.partition)?.plan.offsets.includes(r.offset));
    if (chosen.length !== wanted) throw new CliError(`read ${chosen.length} of the ${wanted} records to replay from ${dlq}; nothing was replayed`);
    return chosen;
  };

  if (a.dryRun) {
    const records = selected(
      await readRanges({ kafka: ctx.kafka, topic: dlq, groupId: throwawayGroupId('dlq-dry-run'), ranges, timeoutMs: READ_TIMEOUT_MS, signal: ctx.io.signal }),
    );
    ctx.io.stdout.write(renderDlqRecords(records, states, ctx, marks.length > 1));
    ctx.io.stdout.write(
      `dry run: would replay ${wanted} record${wanted === 1 ? '' : 's'} from ${dlq} to ${source}${skipped > 0 ? `; ${skipped} already replayed` : ''}; nothing published or committed\n`,
    );
    return 0;
  }

  const producer = ctx.kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  let replayed: ReadRecord[] = [];
  try {
    await readRanges({
      kafka: ctx.kafka,
      topic: dlq,
      groupId: REPLAY_GROUP,
      ranges,
      timeoutMs: READ_TIMEOUT_MS,
      signal: ctx.io.signal,
      // Publish, then commit: a crash in between replays these again next time, which the
      // consumers' inboxes absorb (docs/architecture.md#reliability-rules); committing first could lose them.
      whileMember: async (consumer, records) => {
        replayed = selected(records);
        await producer.send({
          topic: source,
          acks: -1,
          messages: replayed.map((r) => ({
            key: r.message.key,
            value: r.message.value,
            headers: replayHeaders(r.message, `${dlq}:${r.partition}:${r.offset}`),
          })),
        });
        await consumer.commitOffsets(
          [...next].map(([partition, state]) => ({ topic: dlq, partition, offset: String(state.committed), metadata: encodeMetadata(state) })),
        );
      },
    });
  } finally {
    await producer.disconnect();
  }
  const after = await replayStates(ctx.admin, dlq, marks);
  for (const [partition, state] of next) {
    const got = after.get(partition)!;
    if (got.committed !== state.committed || encodeMetadata(got) !== encodeMetadata(state)) {
      throw new CliError(
        `replayed ${replayed.length} records to ${source} but could not record that in group ${REPLAY_GROUP}; replaying again would send them twice`,
      );
    }
  }
  ctx.io.stdout.write(renderDlqRecords(replayed, after, ctx, marks.length > 1));
  ctx.io.stdout.write(
    `replayed ${replayed.length} record${replayed.length === 1 ? '' : 's'} from ${dlq} to ${source}${skipped > 0 ? `; ${skipped} already replayed, skipped` : ''}\n`,
  );
  return 0;
}

const DLQ_OPTIONS = {
  limit: { type: 'string' },
  offset: { type: 'string' },
  partition: { type: 'string' },
  all: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
} as const;

/** `griddispatch dlq list|replay`. */
export async function dlq(args: string[], io: CliIo): Promise<number> {
  return runCommand(io, DLQ_USAGE, args, DLQ_OPTIONS, async (parsed) => {
    const [sub, ...positionals] = parsed.positionals;
    const v = parsed.values;
    if (sub !== 'list' && sub !== 'replay') throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'dlq needs a subcommand: list or replay');
    if (sub === 'list') {
      const wrong = (['offset', 'partition', 'all', 'dry-run'] as const).find((k) => v[k] !== undefined);
      if (wrong) throw new UsageError(`--${wrong} is for dlq replay`);
    } else if (v.limit !== undefined) {
      throw new UsageError('--limit is for dlq list');
    }
    const config = loadCliConfig(io.env);
    const brokers = requireBrokers(config);
    const kafka = createKafka(brokers);
    const admin = await connectAdmin(kafka, brokers);
    try {
      const ctx: DlqContext = { config, kafka, admin, io };
      if (sub === 'list') return await list(ctx, positionals, v.limit);
      return await replay(ctx, { positionals, offset: v.offset, partition: v.partition, all: v.all, dryRun: v['dry-run'] ?? false });
    } finally {
      await admin.disconnect();
    }
  });
}
