import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import { DEFAULT_TOPIC_PREFIX, dlqTopic } from '@griddispatch/contracts';
import {
  deadLetterNow,
  DEFAULTS,
  maxBatchSize,
  dlqHeaders,
  errorText,
  isDependencyUnavailable,
  partitionForKey,
  retryDelay,
  retryPolicy,
  sleep,
  type RetryPolicy,
} from './delivery.ts';
import type { Bus, ConsumerLag, IncomingMessage, OutgoingMessage, SubscribeOptions, Subscription } from './types.ts';

// The embedded mode's bus: Kafka's semantics in memory, so services behave the same in one
// process as they do against a broker. Each topic is N partitions (key → murmur2, as Kafka);
// each consumer group has its own committed offset per partition; members of a group split the
// partitions; a partition's records are handled in order (one at a time, or in batches for a
// batch handler), committed only after the handler resolved. Nothing survives a restart:
// durability in embedded mode comes from the outboxes.

export interface InProcessBusOptions {
  /** Prefix for `topicName()` and DLQ headers. Default `griddispatch.` (GD_TOPIC_PREFIX). */
  prefix?: string;
  logger: Logger;
  /** Partitions per topic. Default 3. */
  partitions?: number;
}

/**
 * Records a partition keeps while no consumer group reads its topic (a DLQ, the `ext.*` feed in
 * a process no outside consumer can reach): the latest ones, as a Kafka topic's retention would,
 * so such a topic cannot grow without bound.
 */
const UNREAD_RETAINED = 10_000;

/** Records a worker handles in a row before it gives other partitions a turn. */
const RUN_LENGTH = 64;

interface StoredRecord {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

class PartitionLog {
  /** Offset of records[0]; records below it were consumed by every group and dropped. */
  base = 0;
  records: StoredRecord[] = [];
  get end(): number {
    return this.base + this.records.length;
  }
  at(offset: number): StoredRecord | undefined {
    return this.records[offset - this.base];
  }
  trimTo(offset: number): void {
    if (offset <= this.base) return;
    const drop = Math.min(offset - this.base, this.records.length);
    // Splicing on every commit would make consumption quadratic; trim in chunks instead.
    if (drop < 1024 && drop < this.records.length) return;
    this.records.splice(0, drop);
    this.base += drop;
  }
}

interface Member {
  id: number;
  groupId: string;
  topics: Set<string>;
  options: SubscribeOptions;
  policy: RetryPolicy;
  concurrency: number;
  active: number;
  stopping: boolean;
  stopped: boolean;
  abort: AbortController;
  inFlight: Set<Promise<void>>;
}

interface Cursor {
  topic: string;
  partition: number;
  /** Next offset to handle; everything below is committed. */
  committed: number;
  owner: Member | null;
  /** The worker draining this partition for its owner, if one runs. */
  worker: Promise<void> | null;
}

interface Group {
  id: string;
  /** Where the next drive() starts its scan, for fairness between partitions. */
  turn: number;
  members: Member[];
  cursors: Map<string, Cursor>;
}

export function createInProcessBus(options: InProcessBusOptions): Bus {
  const prefix = options.prefix ?? DEFAULT_TOPIC_PREFIX;
  const partitionCount = options.partitions ?? 3;
  if (!Number.isInteger(partitionCount) || partitionCount < 1) throw new Error(`partitions must be a positive integer, got ${partitionCount}`);
  const logger = options.logger.child({ component: 'bus', bus: 'in-process' });
  const topics = new Map<string, PartitionLog[]>();
  const groups = new Map<string, Group>();
  let nextMemberId = 1;
  let closed = false;

  const topicName = (topic: string) => `${prefix}${topic}`;

  function logOf(topic: string): PartitionLog[] {
    let logs = topics.get(topic);
    if (!logs) {
      logs = Array.from({ length: partitionCount }, () => new PartitionLog());
      topics.set(topic, logs);
    }
    return logs;
  }

  const cursorKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

  /** Messages as stored; a DLQ copy keeps the original bytes (`Buffer`). */
  function append(topic: string, messages: Array<Omit<OutgoingMessage, 'value'> & { value: string | Buffer }>): void {
    const logs = logOf(topic);
    for (const m of messages) {
      const log = logs[partitionForKey(m.key, partitionCount)];
      // Copies: a publisher reusing its buffers must not change what consumers see.
      log?.records.push({ key: m.key, value: Buffer.from(m.value), headers: { ...(m.headers ?? {}) } });
    }
    if (![...groups.values()].some((g) => g.cursors.has(cursorKey(topic, 0)))) {
      for (const log of logs) if (log.records.length > UNREAD_RETAINED) log.trimTo(log.end - UNREAD_RETAINED);
    }
    for (const group of groups.values()) if (group.members.some((m) => m.topics.has(topic))) scheduleDrive(group);
  }

  // Handlers start on a later microtask, never inside publish() itself, as with a real broker:
  // a publisher's code after `await publish()` must not interleave with its own consumers.
  const driveScheduled = new Set<Group>();
  function scheduleDrive(group: Group): void {
    if (driveScheduled.has(group)) return;
    driveScheduled.add(group);
    queueMicrotask(() => {
      driveScheduled.delete(group);
      drive(group);
    });
  }

  /** Kafka-style assignment: partition p of a topic goes to the p-th (mod n) live subscriber of it. */
  function rebalance(group: Group): void {
    for (const cursor of group.cursors.values()) {
      const eligible = group.members.filter((m) => !m.stopping && m.topics.has(cursor.topic));
      cursor.owner = eligible.length > 0 ? (eligible[cursor.partition % eligible.length] ?? null) : null;
    }
  }

  /** Drops records every group of the topic has committed, so a long-running process stays small. */
  function trim(topic: string, partition: number): void {
    let min = Infinity;
    for (const group of groups.values()) {
      const cursor = group.cursors.get(cursorKey(topic, partition));
      if (cursor) min = Math.min(min, cursor.committed);
    }
    if (min !== Infinity) topics.get(topic)?.[partition]?.trimTo(min);
  }

  function drive(group: Group): void {
    // Start the scan at a rotating position: with fewer slots than busy partitions, every
    // partition gets its turn (a worker hands its slot back after a run of records).
    const cursors = [...group.cursors.values()];
    const start = cursors.length > 0 ? group.turn++ % cursors.length : 0;
    for (let i = 0; i < cursors.length; i += 1) {
      const cursor = cursors[(start + i) % cursors.length] as Cursor;
      if (cursor.worker) continue;
      const owner = cursor.owner;
      if (!owner || owner.stopping || owner.active >= owner.concurrency) continue;
      if (cursor.committed >= (topics.get(cursor.topic)?.[cursor.partition]?.end ?? 0)) continue;
      owner.active += 1;
      const worker = work(group, cursor, owner).finally(() => {
        owner.active -= 1;
        owner.inFlight.delete(worker);
        cursor.worker = null;
        scheduleDrive(group);
      });
      cursor.worker = worker;
      owner.inFlight.add(worker);
    }
  }

  /** Handles the partition's records in order while `member` owns it and is not stopping. */
  async function work(group: Group, cursor: Cursor, member: Member): Promise<void> {
    const log = logOf(cursor.topic)[cursor.partition];
    if (!log) return;
    const batchSize = member.options.batchHandler ? maxBatchSize(member.options) : 1;
    let handled = 0;
    while (cursor.owner === member && !member.stopping) {
      if (cursor.committed < log.base) cursor.committed = log.base;
      const first = cursor.committed;
      const records: StoredRecord[] = [];
      for (let offset = first; offset < log.end && records.length < batchSize; offset += 1) records.push(log.at(offset) as StoredRecord);
      if (records.length === 0) return;
      const batch = member.options.batchHandler ? await deliverBatch(group, member, cursor, records, first) : 'failed';
      if (batch === 'abandoned') return;
      if (batch === 'done') {
        cursor.committed = first + records.length;
        trim(cursor.topic, cursor.partition);
      } else {
        for (const [i, record] of records.entries()) {
          if (cursor.owner !== member || member.stopping) return;
          const outcome = await deliver(group, member, cursor, record, first + i);
          if (outcome === 'abandoned') return;
          cursor.committed = first + i + 1;
          trim(cursor.topic, cursor.partition);
        }
      }
      handled += records.length;
      if (handled >= RUN_LENGTH) {
        // Hand the slot back (drive() continues elsewhere, then here), and let timers and
        // sockets run: a handler without real I/O would otherwise starve them.
        await yieldToEventLoop();
        return;
      }
    }
  }

  const incoming = (cursor: Cursor, record: StoredRecord, offset: number, attempt: number): IncomingMessage => ({
    topic: cursor.topic,
    key: record.key,
    value: record.value,
    headers: { ...record.headers },
    partition: cursor.partition,
    offset: String(offset),
    attempt,
  });

  /** 'failed' hands the records to the record path (retries, DLQ). */
  async function deliverBatch(group: Group, member: Member, cursor: Cursor, records: StoredRecord[], first: number): Promise<'done' | 'failed' | 'abandoned'> {
    try {
      await member.options.batchHandler?.(records.map((record, i) => incoming(cursor, record, first + i, 1)));
      return 'done';
    } catch (err) {
      if (member.stopping) return 'abandoned';
      logger.warn(
        { groupId: group.id, topic: cursor.topic, partition: cursor.partition, offset: first, records: records.length, err: errorText(err) },
        'batch failed; applying its records one by one',
      );
      return 'failed';
    }
  }

  async function deliver(group: Group, member: Member, cursor: Cursor, record: StoredRecord, offset: number): Promise<'done' | 'abandoned'> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await member.options.handler(incoming(cursor, record, offset, attempt));
        return 'done';
      } catch (err) {
        const where = { groupId: group.id, topic: cursor.topic, partition: cursor.partition, offset, attempt };
        if (member.stopping) {
          logger.info({ ...where, err: errorText(err) }, 'handler failed while stopping; record left uncommitted for the next consumer');
          return 'abandoned';
        }
        if (deadLetterNow(member.policy, err, attempt)) {
          logger.error({ ...where, err }, 'record dead-lettered');
          const headers = dlqHeaders(record.headers, err, attempt, {
            topic: topicName(cursor.topic),
            partition: cursor.partition,
            offset: String(offset),
            groupId: group.id,
          });
          append(dlqTopic(cursor.topic), [{ key: record.key, value: record.value, headers }]);
          return 'done';
        }
        const delay = retryDelay(member.policy, err, attempt);
        logger.warn(
          { ...where, err: errorText(err), retryInMs: delay },
          isDependencyUnavailable(err) ? 'handler failed: a dependency is unreachable; retrying until it answers' : 'handler failed; retrying',
        );
        await sleep(delay, member.abort.signal);
        if (member.stopping) return 'abandoned';
      }
    }
  }

  async function stopMember(group: Group, member: Member): Promise<void> {
    if (member.stopping) {
      while (member.inFlight.size > 0) await Promise.allSettled([...member.inFlight]);
      return;
    }
    member.stopping = true;
    member.abort.abort();
    group.members = group.members.filter((m) => m !== member);
    rebalance(group);
    while (member.inFlight.size > 0) await Promise.allSettled([...member.inFlight]);
    member.stopped = true;
    logger.debug({ groupId: group.id, member: member.id }, 'subscriber stopped');
    // Partitions it held go to the remaining members, from the committed offset.
    scheduleDrive(group);
  }

  const bus: Bus = {
    kind: 'in-process',

    topicName,

    async publish(topic, messages) {
      if (closed) throw new Error('bus is closed');
      append(topic, messages);
    },

    async subscribe(subscribeOptions) {
      if (closed) throw new Error('bus is closed');
      if (subscribeOptions.topics.length === 0) throw new Error('subscribe needs at least one topic');
      let group = groups.get(subscribeOptions.groupId);
      if (!group) {
        group = { id: subscribeOptions.groupId, turn: 0, members: [], cursors: new Map() };
        groups.set(group.id, group);
      }
      const member: Member = {
        id: nextMemberId++,
        groupId: group.id,
        topics: new Set(subscribeOptions.topics),
        options: subscribeOptions,
        policy: retryPolicy(subscribeOptions),
        concurrency: Math.max(1, subscribeOptions.concurrency ?? DEFAULTS.concurrency),
        active: 0,
        stopping: false,
        stopped: false,
        abort: new AbortController(),
        inFlight: new Set(),
      };
      for (const topic of subscribeOptions.topics) {
        const logs = logOf(topic);
        logs.forEach((log, partition) => {
          const key = cursorKey(topic, partition);
          if (group.cursors.has(key)) return;
          // A new group starts at the oldest retained record, or at the end (fromBeginning: false).
          const committed = subscribeOptions.fromBeginning === false ? log.end : log.base;
          group.cursors.set(key, { topic, partition, committed, owner: null, worker: null });
        });
      }
      group.members.push(member);
      rebalance(group);
      scheduleDrive(group);
      const joined = group;
      return {
        stop: () => stopMember(joined, member),
        isRunning: () => !member.stopping && !closed,
      } satisfies Subscription;
    },

    async consumerLag() {
      const lags: ConsumerLag[] = [];
      for (const group of groups.values()) {
        for (const cursor of group.cursors.values()) {
          // Only what a live subscriber is expected to consume counts (as `waitForIdle` needs).
          if (!group.members.some((m) => !m.stopping && m.topics.has(cursor.topic))) continue;
          const end = topics.get(cursor.topic)?.[cursor.partition]?.end ?? 0;
          const committed = Math.max(cursor.committed, topics.get(cursor.topic)?.[cursor.partition]?.base ?? 0);
          lags.push({ groupId: group.id, topic: cursor.topic, partition: cursor.partition, committed, end, lag: end - committed });
        }
      }
      return lags;
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...groups.values()].flatMap((group) => [...group.members].map((member) => stopMember(group, member))));
    },
  };
  return bus;
}
