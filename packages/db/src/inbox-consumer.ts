import type { BatchHandler, IncomingMessage, MessageHandler } from '@griddispatch/bus';
import { InvalidEventError, isEvent, parseEvent, type CloudEvent, type EventType } from '@griddispatch/contracts';
import { withBatchSpan, withConsumerSpan } from '@griddispatch/observability';
import { GroupCommitWriter } from './group-commit.ts';
import { claimEvents } from './inbox.ts';
import { withTransaction } from './pool.ts';
import type { Pool, PoolClient } from './types.ts';

/**
 * The one shape of every consumer: parse each record, then in ONE transaction claim the batch's
 * event ids in the inbox (one statement), apply each new event (in offset order, or in the order
 * of `orderKey`), commit; the bus commits the offsets after. A redelivered event finds its inbox
 * row and changes nothing. A batch that fails (a malformed record, a failing effect) is retried
 * by the bus record by record through `handler`, the same code with a batch of one, so a poison
 * record reaches the DLQ alone. Batches handed over in the same turn of the event loop (one fetch's
 * partitions) share one transaction; if it fails, each is tried again in a transaction of its own,
 * and only a batch that fails alone goes back to the bus.
 */
export interface InboxConsumerSpec<E extends { id: string }, R, P = undefined> {
  pool: Pool;
  schema: string;
  /** Inbox name of this consumer, e.g. `sla-timer.dispatch-assigned`. */
  consumer: string;
  /** Span name for a batch and for each record's effect. */
  spanName: string;
  /** Parses and checks one record; throws InvalidEventError for a malformed one (→ DLQ at once). */
  parse(message: IncomingMessage): E;
  /**
   * Reads (or locks) what the batch's new events share, once, before any is applied — e.g. one
   * look-up for all their customers, or their locks taken in one global order so that batches
   * of different partitions cannot deadlock.
   */
  prepare?(client: PoolClient, events: E[]): Promise<P>;
  /**
   * Events are applied in the stable order of this key (the aggregate each locks): batches
   * that lock rows in one global order cannot deadlock one another. Records of one key stay in
   * offset order; give every event of one Kafka key the same order key, or one whose relative
   * order does not matter.
   */
  orderKey?(event: E): string;
  /** The effect of one new event, on the batch's transaction, in a span that continues the record's trace. */
  apply(client: PoolClient, event: E, message: IncomingMessage, prepared: P): Promise<R>;
  /** After the last effect, before the commit: what the batch's effects collected, written at once. */
  finish?(client: PoolClient, prepared: P): Promise<void>;
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

export function inboxConsumer<E extends { id: string }, R, P = undefined>(spec: InboxConsumerSpec<E, R, P>): InboxConsumer {
  async function run(messages: IncomingMessage[]): Promise<void> {
    const parsed = messages.map((message) => ({ event: spec.parse(message), message }));
    const results = await withBatchSpan(
      spec.spanName,
      messages.map((m) => m.headers),
      () =>
        withTransaction(spec.pool, async (client) => {
          const fresh = await claimEvents(
            client,
            spec.schema,
            spec.consumer,
            parsed.map(({ event }) => event.id),
          );
          // Applied before, or repeated earlier in this batch: skipped.
          let todo = parsed.filter(({ event }) => fresh.delete(event.id));
          if (todo.length === 0) return [];
          const { orderKey } = spec;
          if (orderKey && todo.length > 1) {
            todo = todo.map((item) => ({ ...item, key: orderKey(item.event) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
          }
          const prepared = (await spec.prepare?.(
            client,
            todo.map(({ event }) => event),
          )) as P;
          const applied: Applied<E, R>[] = [];
          for (const { event, message } of todo) {
            applied.push({
              event,
              message,
              result: await withConsumerSpan(spec.spanName, message.headers, () => spec.apply(client, event, message, prepared)),
            });
          }
          await spec.finish?.(client, prepared);
          return applied;
        }),
    );
    spec.applied?.(results);
  }
  const batches = new GroupCommitWriter<IncomingMessage[], void>({
    gather: true,
    async writeGroup(group) {
      await run(group.flat());
      return group.map(() => ({ ok: true, value: undefined }));
    },
    writeOne: run,
  });
  return { handler: (message) => run([message]), batchHandler: (messages) => batches.write(messages) };
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

/**
 * A consumer's `parse` for the event types it handles: a record that is no CloudEvent, or one of
 * another type, is an InvalidEventError (dead-lettered at once, never retried).
 */
export function parseEventOf<T extends EventType>(...types: readonly T[]): (message: IncomingMessage) => CloudEvent<T> {
  return (message) => {
    const event = parseEvent(message.value);
    if (!types.some((t) => isEvent(event, t))) throw new InvalidEventError(`unexpected event type ${event.type} on ${message.topic}`);
    return event as CloudEvent<T>;
  };
}
