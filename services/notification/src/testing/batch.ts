import type { IncomingMessage } from '@griddispatch/bus';
import { EventTypes, serializeEvent, type CloudEvent } from '@griddispatch/contracts';
import type { Pool } from '@griddispatch/db';
import type { ConsumerDeps } from '../consumers/consume.ts';
import { replyCatalog } from '../templates/replies.ts';
import { catalog } from '../templates/index.ts';
import type { Harness } from './harness.ts';

// For tests that hand a consumer one batch directly, as the bus would (no bus, no retries).

/** The consumers' dependencies on the harness's database (or `pool`, e.g. one that counts), clock and config. */
export function consumerDeps(h: Harness, pool: Pool = h.db.pool): ConsumerDeps {
  return {
    pool,
    logger: h.logger,
    config: h.config,
    catalog: catalog(h.config.locale, h.config.timeZone),
    replies: replyCatalog(h.config.locale),
    now: h.clock.now,
    wake: () => undefined,
    maxAttempts: 3,
    externalFeed: null,
  };
}

/** The records of one partition, in offset order, as the bus hands them to a batch handler. */
export function messagesOf(events: CloudEvent[], attempt = 1): IncomingMessage[] {
  return events.map((event, i) => ({
    topic: EventTypes[event.type].topic,
    key: event.subject ?? event.id,
    value: Buffer.from(serializeEvent(event)),
    headers: {},
    partition: 0,
    offset: String(i),
    attempt,
  }));
}
