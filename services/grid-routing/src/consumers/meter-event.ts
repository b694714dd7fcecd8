import type { CloudEvent } from '@griddispatch/contracts';
import { inboxConsumer, parseEventOf, type InboxConsumer, type Pool } from '@griddispatch/db';
import { eventLogger, type Logger } from '@griddispatch/observability';
import { SCHEMA } from '../schema.ts';
import { finishMeterBatch, prepareMeterBatch, type MeterResult } from '../use-cases/meters.ts';
import type { RoutingContext } from '../use-cases/routing-context.ts';

export const CONSUMER = 'grid-routing.meter-event';

export interface MeterEventDeps {
  pool: Pool;
  logger: Logger;
  ctx: RoutingContext;
  /** Told each applied record's result once it committed (metrics). */
  onResult?: (result: MeterResult, event: CloudEvent<'cn.griddispatch.meter.event.v1'>) => void;
}

const parseMeterEvent = parseEventOf('cn.griddispatch.meter.event.v1');

/**
 * meters.events → rule 6 (use-cases/meters.ts), a batch at a time: one transaction for the
 * batch's inbox marks, meter states, incidents and outbox rows. Only a record that is not a
 * meter event goes to the DLQ; an unknown meter or a power-on without an outage is a recorded
 * no-op with its reason (routing.meter_event_noops).
 */
export function meterEventConsumer(deps: MeterEventDeps): InboxConsumer {
  return inboxConsumer({
    pool: deps.pool,
    schema: SCHEMA,
    consumer: CONSUMER,
    spanName: 'grid-routing meter events',
    parse: parseMeterEvent,
    prepare: (client, events) => prepareMeterBatch(deps.ctx, client, events),
    apply: async (_client, event, _message, batch): Promise<MeterResult> =>
      batch.results.get(event.id) ?? { status: 'noop', reason: 'duplicate', detail: 'repeated in its batch' },
    finish: finishMeterBatch,
    applied(results) {
      for (const { event, result } of results) {
        deps.onResult?.(result, event);
        if (result.status === 'noop')
          eventLogger(deps.logger, event).debug({ meterId: event.data.meterId, reason: result.reason, detail: result.detail }, 'meter event changed nothing');
        else if (result.outcome === 'opened' || result.outcome === 'restored' || result.outcome === 'confirmed') {
          eventLogger(deps.logger, event).info(
            { meterId: event.data.meterId, outcome: result.outcome, incidentId: result.incidentId },
            'meter event changed an incident',
          );
        }
      }
    },
  });
}
