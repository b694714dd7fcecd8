import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Logger } from 'pino';

// The Kafka bus's one producer: idempotent, acks=all. Idempotent kafkajs producers lose records
// when several sends to one partition overlap (tulios/kafkajs#1005), so sends are queued and go
// out one request at a time; sends that arrive while a request is out are coalesced into the
// next. Its retries are bounded (`retries`) so a send rejects while the broker is away and the
// outbox relay backs off; a republished record may then land twice, which consumers' inboxes
// absorb (docs/architecture.md#reliability-rules).

const MAX_RECORDS_PER_SEND = 5000;

interface PendingSend {
  topic: string;
  messages: Message[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface ProducerQueue {
  /** Resolves once the broker acknowledged every record (acks=all). `topic` is the broker's name. */
  send(topic: string, messages: Message[]): Promise<void>;
  /** Waits for the sends in flight, then disconnects. */
  close(): Promise<void>;
}

export function createProducerQueue(kafka: Kafka, logger: Logger, retries: number): ProducerQueue {
  let producerPromise: Promise<Producer> | null = null;
  function producer(): Promise<Producer> {
    producerPromise ??= (async () => {
      const p = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries },
      });
      await p.connect();
      return p;
    })().catch((err: unknown) => {
      producerPromise = null;
      throw err;
    });
    return producerPromise;
  }

  /** After a failed send the sequence numbers may be off: start over with a fresh producer id. */
  async function resetProducer(): Promise<void> {
    const current = producerPromise;
    producerPromise = null;
    if (current) await current.then((p) => p.disconnect()).catch(() => undefined);
  }

  const queue: PendingSend[] = [];
  let sending: Promise<void> | null = null;

  /** The next request: queued sends up to MAX_RECORDS_PER_SEND records (at least one send). */
  function nextRequest(): PendingSend[] {
    const batch: PendingSend[] = [];
    let records = 0;
    while (queue.length > 0 && (batch.length === 0 || records + (queue[0]?.messages.length ?? 0) <= MAX_RECORDS_PER_SEND)) {
      const next = queue.shift() as PendingSend;
      batch.push(next);
      records += next.messages.length;
    }
    return batch;
  }

  function pump(): void {
    if (sending) return;
    sending = (async () => {
      while (queue.length > 0) {
        const batch = nextRequest();
        const byTopic = new Map<string, Message[]>();
        for (const item of batch) {
          const list = byTopic.get(item.topic) ?? [];
          list.push(...item.messages);
          byTopic.set(item.topic, list);
        }
        try {
          const p = await producer();
          await p.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
          for (const item of batch) item.resolve();
        } catch (err) {
          logger.error({ err, records: batch.reduce((n, item) => n + item.messages.length, 0) }, 'publish failed');
          for (const item of batch) item.reject(err);
          await resetProducer();
        }
      }
    })().finally(() => {
      sending = null;
      if (queue.length > 0) pump();
    });
  }

  return {
    send(topic, messages) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ topic, messages, resolve, reject });
        pump();
      });
    },
    async close() {
      while (sending) await sending;
      await resetProducer();
    },
  };
}
