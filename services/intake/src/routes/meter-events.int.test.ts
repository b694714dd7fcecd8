import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeterEventV1, parseEvent } from '@griddispatch/contracts';
import { KEYS, startHarness, type Harness } from '../testing/harness.ts';

// POST /v1/meter-events (docs/architecture.md#incidents): stored once per (source, eventId) with its meters.events
// record; bad input is refused whole, with nothing stored and nothing published.

const NOW = new Date('2026-12-07T08:00:00.000Z');
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ now: () => NOW, record: ['meters.events'] });
});
afterAll(async () => {
  await h?.close();
});

const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
let n = 0;
const event = (over: Record<string, unknown> = {}) => ({
  eventId: `EV-${++n}`,
  kind: 'power_off',
  meterId: `M-${n}`,
  districtCode: 'HH-TQ-017',
  at: ago(30_000),
  ...over,
});

async function published(): Promise<MeterEventV1[]> {
  await h.settle();
  return (h.published.get('meters.events') ?? []).map((m) => MeterEventV1.parse(parseEvent(m.value).data));
}

describe('POST /v1/meter-events', () => {
  it('stores new events with their meters.events records (key 台区, else meter), and answers retries as duplicates', async () => {
    const a = event();
    const b = event({ districtCode: undefined, accountNo: '4200105566', kind: 'power_on' });
    const res = await h.post('/v1/meter-events', { source: 'hes-hubei', events: [a, b] });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 2, duplicates: 0 });

    // A retry of the batch plus one new event, the new one repeated inside the body: counted once.
    const c = event();
    const again = await h.post('/v1/meter-events', { source: 'hes-hubei', events: [a, b, c, c] });
    expect(again.json()).toEqual({ accepted: 1, duplicates: 2 });
    // The same eventId from another source is another event.
    expect((await h.post('/v1/meter-events', { source: 'hes-other', events: [a] })).json()).toEqual({ accepted: 1, duplicates: 0 });

    const events = await published();
    expect(events.map((e) => [e.source, e.eventId])).toEqual([
      ['hes-hubei', a.eventId],
      ['hes-hubei', b.eventId],
      ['hes-hubei', c.eventId],
      ['hes-other', a.eventId],
    ]);
    expect(events[1]).toEqual({
      source: 'hes-hubei',
      eventId: b.eventId,
      kind: 'power_on',
      meterId: b.meterId,
      accountNo: '4200105566',
      at: b.at,
      receivedAt: NOW.toISOString(),
    });
    const keys = (h.published.get('meters.events') ?? []).map((m) => m.key);
    expect(keys).toEqual(['HH-TQ-017', b.meterId, 'HH-TQ-017', 'HH-TQ-017']);
    expect(await h.count('meter_events')).toBe(4);
  });

  it('refuses bad input whole: nothing stored, nothing published', async () => {
    const before = { stored: await h.count('meter_events'), outbox: await h.count('outbox') };
    const post = (body: unknown, key?: string) => h.post('/v1/meter-events', body, key);

    const future = await post({ source: 'hes-hubei', events: [event(), event({ at: new Date(NOW.getTime() + 6 * 60_000).toISOString() })] });
    expect(future.statusCode).toBe(422);
    expect(future.json().error).toMatchObject({ code: 'event_time_out_of_range', details: { indexes: [1] } });
    expect(future.json().error.message).toMatch(/^events\[1\]\.at .* in the future/);
    const old = await post({ source: 'hes-hubei', events: [event({ at: ago(8 * 86_400_000) }), event()] });
    expect(old.statusCode).toBe(422);
    expect(old.json().error.message).toMatch(/^events\[0\]\.at .* older than 7 days/);
    // Within the bounds: 4 min ahead (meter clock drift) and 6 days old are fine — checked below, after the refusals.

    const tooMany = await post({ source: 'hes-hubei', events: Array.from({ length: 1001 }, () => event()) });
    expect(tooMany.statusCode).toBe(400);
    expect(JSON.stringify(tooMany.json().error.details)).toContain('events');
    expect((await post({ source: 'hes-hubei', events: [] })).statusCode).toBe(400);
    expect((await post({ source: 'hes-hubei', events: [event({ kind: 'flicker' })] })).statusCode).toBe(400);
    expect((await post({ source: 'hes-hubei', events: [event({ meterId: 'M 1\u202e' })] })).statusCode).toBe(400);
    expect((await post({ source: 'hes-hubei', events: [event({ at: 'yesterday' })] })).statusCode).toBe(400);
    expect((await post({ source: 'hes-hubei', events: [event({ extra: 1 })] })).statusCode).toBe(400);
    expect((await post({ source: 'hes-hubei', events: [event()] }, KEYS.reader)).statusCode).toBe(403);
    const bound = await post({ source: 'hes-hubei', events: [event()] }, KEYS.only95598);
    expect(bound.statusCode).toBe(403);
    expect(bound.json().error.code).toBe('source_not_allowed');
    expect((await post({ source: 'hes-hubei', events: [event()] }, '')).statusCode).toBe(401);
    const huge = await post({ source: 'hes-hubei', events: [event({ meterId: 'M'.repeat(64) })], pad: 'x'.repeat(1.1 * (1 << 20)) });
    expect(huge.statusCode).toBe(413);

    expect(await h.count('meter_events')).toBe(before.stored);
    expect(await h.count('outbox')).toBe(before.outbox);

    const edge = await post({
      source: 'hes-hubei',
      events: [event({ at: new Date(NOW.getTime() + 4 * 60_000).toISOString() }), event({ at: ago(6 * 86_400_000) })],
    });
    expect(edge.json()).toEqual({ accepted: 2, duplicates: 0 });
  });

  it('takes a full batch of 1,000 events with long identifiers in one request', async () => {
    const events = Array.from({ length: 1000 }, (_, i) =>
      event({
        eventId: `BATCH-${String(i).padStart(4, '0')}-${'e'.repeat(100)}`,
        meterId: `M-${i}-${'m'.repeat(56)}`,
        accountNo: 'A'.repeat(64),
        districtCode: 'HH-TQ-017',
      }),
    );
    const res = await h.post('/v1/meter-events', { source: 'hes-hubei', events });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 1000, duplicates: 0 });
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await h.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, { post?: { responses: Record<string, unknown> } }> };
    expect(Object.keys(doc.paths['/v1/meter-events']?.post?.responses ?? {})).toEqual(expect.arrayContaining(['202', '400', '403', '413', '422']));
  });
});
