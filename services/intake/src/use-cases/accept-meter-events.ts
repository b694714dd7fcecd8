import { buildEvent, EventTypeName, Topics } from '@griddispatch/contracts';
import { enqueueOutbox, eventRecord, withTransaction, type OutboxRecord } from '@griddispatch/db';
import { HttpError } from '@griddispatch/http';
import { currentTraceparent } from '@griddispatch/observability';
import type { IntakeContext } from '../context.ts';
import { SCHEMA } from '../schema.ts';
import { eventsOutOfRange, METER_EVENT_MAX_AGE_MS, METER_EVENT_MAX_AHEAD_MS, type IntakeMeterEventsBody } from '../domain/meter-events-body.ts';

// POST /v1/meter-events (主动抢修, docs/architecture.md#incidents): meters' power-off / power-on events, each stored
// once per (source, eventId) with its `meters.events` outbox row in one transaction, so 202
// means durable and a retried batch publishes nothing twice. grid-routing decides what they mean.

export interface AcceptMeterEventsResult {
  /** Events stored and published now. */
  accepted: number;
  /** Events whose (source, eventId) was stored before. An eventId repeated inside one body counts once. */
  duplicates: number;
}

export async function acceptMeterEvents(ctx: IntakeContext, body: IntakeMeterEventsBody, receivedBy: string): Promise<AcceptMeterEventsResult> {
  const now = ctx.now();
  // Nothing is stored when any event is out of range: the caller fixes its clock or drops the event.
  const bad = eventsOutOfRange(body, now);
  if (bad.length > 0) {
    const first = bad[0]!;
    const ahead = Date.parse(body.events[first]!.at) > now.getTime();
    throw new HttpError(
      422,
      'event_time_out_of_range',
      `events[${first}].at ${body.events[first]!.at} is ${ahead ? `more than ${METER_EVENT_MAX_AHEAD_MS / 60_000} min in the future` : `older than ${METER_EVENT_MAX_AGE_MS / 86_400_000} days`}; nothing was stored`,
      { indexes: bad.slice(0, 100), serverTime: now.toISOString() },
    );
  }
  // The first of an eventId repeated within the body is the one kept.
  const seen = new Set<string>();
  const events = body.events.filter((e) => (seen.has(e.eventId) ? false : (seen.add(e.eventId), true)));
  const traceparent = currentTraceparent();
  const receivedAt = now.toISOString();

  const inserted = await withTransaction(ctx.pool, async (client) => {
    const { rows } = await client.query<{ event_id: string }>(
      `INSERT INTO intake.meter_events (source, event_id, kind, meter_id, district_code, at, received_at, received_by)
       SELECT $1, t.event_id, t.kind, t.meter_id, t.district_code, t.at, $7, $8
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) AS t(event_id, kind, meter_id, district_code, at)
       ORDER BY t.event_id
       ON CONFLICT (source, event_id) DO NOTHING
       RETURNING event_id`,
      [
        body.source,
        events.map((e) => e.eventId),
        events.map((e) => e.kind),
        events.map((e) => e.meterId),
        events.map((e) => e.districtCode ?? null),
        events.map((e) => e.at),
        receivedAt,
        receivedBy,
      ],
    );
    const fresh = new Set(rows.map((r) => r.event_id));
    const outbox: OutboxRecord[] = events
      .filter((e) => fresh.has(e.eventId))
      .map((e) => {
        const event = buildEvent({
          type: EventTypeName.meterEvent,
          source: 'intake',
          subject: e.meterId,
          time: now,
          traceparent,
          data: {
            source: body.source,
            eventId: e.eventId,
            kind: e.kind,
            meterId: e.meterId,
            ...(e.accountNo !== undefined ? { accountNo: e.accountNo } : {}),
            ...(e.districtCode !== undefined ? { districtCode: e.districtCode } : {}),
            at: new Date(e.at).toISOString(),
            receivedAt,
          },
        });
        // One 台区's events in order (the quorum is counted per 台区); a meter without one by itself.
        return eventRecord(Topics.metersEvents, e.districtCode ?? e.meterId, event);
      });
    await enqueueOutbox(client, SCHEMA, outbox);
    return fresh.size;
  });
  ctx.onMeterEvents?.(inserted, events.length - inserted);
  return { accepted: inserted, duplicates: events.length - inserted };
}
