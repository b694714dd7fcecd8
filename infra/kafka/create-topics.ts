import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { ensureTopics, loadTopicsFile } from '@griddispatch/bus';
import { DEFAULT_TOPIC_PREFIX } from '@griddispatch/contracts';

// `kafka.sh topics` (and `up`): creates every topic of infra/kafka/topics.json that is missing,
// with the same code the Kafka bus uses, and prints what the broker has.

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const prefix = process.env.GD_TOPIC_PREFIX ?? DEFAULT_TOPIC_PREFIX;
const logger = pino({ level: 'warn' }, pino.destination(2));
const file = loadTopicsFile();
const admin = new Kafka({ clientId: 'griddispatch-topics', brokers, logLevel: logLevel.NOTHING, retry: { retries: 3 } }).admin();

try {
  await admin.connect();
  const topics = await ensureTopics(
    admin,
    file,
    prefix,
    file.topics.map((t) => t.name),
    logger,
  );
  const width = Math.max(...topics.map((t) => t.topic.length));
  for (const t of topics) console.log(`  ${t.topic.padEnd(width)}  partitions=${String(t.partitions).padEnd(3)} ${t.created ? 'created' : 'exists'}`);
} catch (err) {
  console.error(`could not create topics on ${brokers.join(',')}: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await admin.disconnect();
}
