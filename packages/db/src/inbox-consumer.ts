import type { BatchHandler, IncomingMessage, MessageHandler } from '@griddispatch/bus';
import { InvalidEventError } from '@griddispatch/contracts';
import { withBatchSpan, withConsumerSpan } from '@griddispatch/observability';
import { claimEvents } from './inbox.ts';
import { withTransaction } from './pool.ts';
import type { Pool, PoolClient } from './types.ts';

/**
 * The one shape of every consumer: parse each record, then in ONE transaction claim the batch's
 * event ids in the inbox (one statement), apply each new event in order, commit; the bus commits
 * the offsets after. A redelivered event finds its inbox row and changes nothing. A batch that
 * fails (a malformed record, a failing effect) is retried by the bus record by record through
 * `handler`, the same code with a batch of one, so a poison record reaches the DLQ alone.
 */
export interface InboxConsumerSpec<E extends { id: string }, R> {
  pool: Pool;
  schema: string;
  /** Inbox name of this consumer, e.g. `sla-timer.dispatch-assigned`. */
  consumer: string;
  /** Span name for a batch and for each record's effect. */
  spanName: string;
  /** Parses and checks one record; throws InvalidEventError for a malformed one (→ DLQ at once). */
  parse(message: IncomingMessage): E;
  /** The effect of one new event, on the batch's transaction, in a span that continues the record's trace. */
  apply(client: PoolClient, event: E, message: IncomingMessage): Promise<R>;
  /** After the commit, with the events applied now, in order (metrics, wake-ups, logs). */
  applied?(results: Applied<E, R>[]): void;
}

export interface Applied<E, R> {
  event: E;
  message: IncomingMessage;
  result: R;
}

export interface InboxConsumer {
  handler: MessageHandler;
  batchHandler: BatchHandler;
}

export function inboxConsumer<E extends { id: string }, R>(spec: InboxConsumerSpec<E, R>): InboxConsumer {
  async function run(messages: IncomingMessage[]): Promise<void> {
    const events = messages.map((message) => spec.parse(message));
    const results = await withBatchSpan(spec.spanName, messages.map((m) => m.headers), () =>
      withTransaction(spec.pool, async (client) => {
        const fresh = await claimEvents(client, spec.schema, spec.consumer, events.map((e) => e.id));
        const applied: Applied<E, R>[] = [];
        for (const [i, event] of events.entries()) {
          // Applied before, or repeated earlier in this batch.
          if (!fresh.delete(event.id)) continue;
          const message = messages[i] as IncomingMessage;
          applied.push({ event, message, result: await withConsumerSpan(spec.spanName, message.headers, () => spec.apply(client, event, message)) });
        }
        return applied;
      }),
    );
    spec.applied?.(results);
  }
  return { handler: (message) => run([message]), batchHandler: run };
}

/**
 * One subscription for several topics: a batch holds records of one partition of one topic, so
 * each goes to its topic's consumer whole. A topic without one is a misrouted record (→ DLQ).
 */
export function byTopic(consumers: Record<string, InboxConsumer>): InboxConsumer {
  const of = (topic: string): InboxConsumer => {
    const consumer = consumers[topic];
    if (!consumer) throw new InvalidEventError(`no consumer for topic ${topic}`);
    return consumer;
  };
  return {
    handler: (message) => of(message.topic).handler(message),
    batchHandler: async (messages) => {
      const first = messages[0];
      if (first) await of(first.topic).batchHandler(messages);
    },
  };
}
