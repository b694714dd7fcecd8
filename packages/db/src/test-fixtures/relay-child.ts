// Child process for relay-crash.int.test.ts: an outbox relay publishing to real Kafka. With
// CRASH_AFTER_BATCHES=n it reports and then hangs right after the n-th batch reached Kafka —
// before the batch's rows are deleted — so the test can SIGKILL it exactly in that window.
// Without it, it reports once the outbox is drained and stops on SIGTERM.
import type { Bus, OutgoingMessage } from '@griddispatch/bus';
import { createKafkaBus } from '@griddispatch/bus';
import { createLogger } from '@griddispatch/observability';
import { createPool } from '../pool.ts';
import { startRelay } from '../relay.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const report = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

const logger = createLogger({ service: 'relay-child', level: 'warn', destination: process.stderr });
const crashAfter = Number(process.env.CRASH_AFTER_BATCHES ?? 0);
const pool = createPool(env('DATABASE_URL'), { max: 3, logger });
const kafka = createKafkaBus({ brokers: env('KAFKA_BROKERS'), prefix: env('GD_TOPIC_PREFIX'), clientId: 'relay-crash-child', logger });

let batches = 0;
const bus: Pick<Bus, 'publish'> = {
  async publish(topic: string, messages: OutgoingMessage[]) {
    await kafka.publish(topic, messages);
    batches += 1;
    if (batches === crashAfter) {
      report({ event: 'published-not-deleted', count: messages.length });
      await new Promise<never>(() => undefined);
    }
  },
};

const relay = startRelay({ pool, schema: env('RELAY_SCHEMA'), bus, batchSize: Number(env('BATCH_SIZE')), pollIntervalMs: 200, logger });
process.once('SIGTERM', () => {
  void (async () => {
    await relay.stop();
    await kafka.close();
    await pool.end();
    process.exit(0);
  })();
});
if (!crashAfter) {
  await relay.drained();
  report({ event: 'drained' });
}
