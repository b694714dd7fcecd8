import { loadCliConfig, runCommand, UsageError, type CliIo } from './io.ts';
import { connectAdmin, createKafka, headerStrings, logicalTopic, requireBrokers, requireTopics, throwawayGroupId } from './kafka.ts';
import { formatTailLine, TailMemory } from './tail-format.ts';

export const TAIL_USAGE = `usage: griddispatch tail <topic>… [--grid G] [--from-beginning] [--json]

Prints one line per event on a Kafka topic: local time (GD_TIME_ZONE), grid, work order,
what happened, and the time left to the work order's next deadline. Names are masked.

  <topic>            logical name: requests.received, workorders.events, dispatch.assigned,
                     dispatch.unroutable, sla.warnings, sla.breaches, <topic>.dlq, or ext.<topic>
                     (what consumers outside the company see: masked); several
                     topics may be given (deadlines learned from dispatch.assigned then show on
                     the work orders' later events)
  --grid G           only events of grid G (id or name)
  --from-beginning   start at the oldest retained record instead of now
  --json             print each record's CloudEvent JSON as is, one per line

Reads with a throwaway consumer group and commits nothing: it never takes partitions from a
service. Needs KAFKA_BROKERS (and GD_TOPIC_PREFIX when not "griddispatch."). Ctrl-C stops.
`;

const TAIL_OPTIONS = {
  grid: { type: 'string' },
  'from-beginning': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** `griddispatch tail`: follows topics until the io signal aborts (Ctrl-C). */
export async function tail(args: string[], io: CliIo): Promise<number> {
  return runCommand(io, TAIL_USAGE, args, TAIL_OPTIONS, async (parsed) => {
    if (parsed.positionals.length === 0) throw new UsageError('tail needs a topic');
    const config = loadCliConfig(io.env);
    const topics = [...new Set(parsed.positionals.map((t) => logicalTopic(t, config.topicPrefix, { allowExternal: true })))];
    const brokers = requireBrokers(config);
    const { grid, json } = parsed.values;
    const fromBeginning = parsed.values['from-beginning'] ?? false;

    const kafka = createKafka(brokers);
    const admin = await connectAdmin(kafka, brokers);
    const fullNames = topics.map((t) => `${config.topicPrefix}${t}`);
    try {
      await requireTopics(admin, fullNames, config.topicPrefix);
    } finally {
      await admin.disconnect();
    }

    const memory = new TailMemory();
    const color = io.stdout.isTTY === true;
    // No offsets are ever committed, so the group leaves nothing behind on the broker.
    const groupId = throwawayGroupId('tail');
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500, sessionTimeout: 10_000, heartbeatInterval: 1000, allowAutoTopicCreation: false });
    // kafkajs restarts a crashed consumer by itself; the operator should still know why lines stopped.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      io.stderr.write(`tail: Kafka consumer failed (${payload.error.message})${payload.restart ? '; reconnecting' : ''}\n`);
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: fullNames, fromBeginning });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          const record = {
            topic: topic.slice(config.topicPrefix.length),
            key: message.key?.toString() ?? null,
            value: message.value,
            headers: headerStrings(message),
            partition,
            offset: message.offset,
          };
          if (json) {
            const line = jsonLine(record.value);
            if (grid === undefined || formatTailLine(record, memory, { now: io.now(), timeZone: config.timeZone, color: false, grid }) !== null) {
              io.stdout.write(`${line}\n`);
            }
            return;
          }
          const line = formatTailLine(record, memory, { now: io.now(), timeZone: config.timeZone, color, grid });
          if (line !== null) io.stdout.write(`${line}\n`);
        },
      });
      io.stderr.write(`tailing ${fullNames.join(', ')}${fromBeginning ? ' from the beginning' : ''}${grid ? ` for grid ${grid}` : ''} — Ctrl-C to stop\n`);
      if (!io.signal.aborted) await new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve(), { once: true }));
    } finally {
      await consumer.disconnect();
    }
    return 0;
  });
}

/** The record value on one line (structured-mode CloudEvent JSON), or its text when not JSON. */
function jsonLine(value: Buffer | null): string {
  if (value === null) return 'null';
  const text = value.toString('utf8');
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    // Not JSON (a poison record on a DLQ): shown as the string it is.
    return JSON.stringify(text);
  }
}
