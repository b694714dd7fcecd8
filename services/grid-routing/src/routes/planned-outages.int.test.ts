import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscription } from '@griddispatch/bus';
import { parseEvent, Topics, type PlannedOutage } from '@griddispatch/contracts';
import { testGroupId } from '@griddispatch/testkit';
import { ADMIN_KEY, assigned, READ_KEY, requestEvent, startHarness, type Harness } from '../testing/harness.ts';
import { getIncident } from '../use-cases/incidents.ts';

let h: Harness;
let announced: PlannedOutage[];
let listener: Subscription;
beforeAll(async () => {
  h = await startHarness();
  announced = [];
  listener = await h.bus.subscribe({
    groupId: testGroupId('planned-listener'),
    topics: [Topics.outagesPlanned],
    handler: async (message) => {
      announced.push(parseEvent(message.value).data as PlannedOutage);
    },
  });
});
afterAll(async () => {
  await listener?.stop();
  await h?.close();
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const auth = (key: string) => ({ authorization: `Bearer ${key}` });
let n = 0;

function body(fields: Record<string, unknown> = {}) {
  const start = Date.now() + 8 * DAY;
  return {
    externalId: `pms-${++n}`,
    kind: 'planned',
    districtCodes: ['TQ-001'],
    start: new Date(start).toISOString(),
    end: new Date(start + 4 * HOUR).toISOString(),
    reason: '10kV湖滨线检修',
    ...fields,
  };
}

const post = (payload: unknown, key = ADMIN_KEY) =>
  h.host.inject({ method: 'POST', url: '/v1/planned-outages', headers: auth(key), payload: payload as object });

describe('POST /v1/planned-outages', () => {
  it('stores the outage, answers 201 with its id and announces it on outages.planned', async () => {
    const b = body({ feederCode: 'TC-10kV-01', districtCodes: undefined });
    const res = await post(b);
    expect(res.statusCode).toBe(201);
    const outage = res.json<PlannedOutage>();
    expect(outage).toMatchObject({
      externalId: b.externalId,
      kind: 'planned',
      status: 'scheduled',
      feederCode: 'TC-10kV-01',
      districtCodes: ['TQ-003', 'TQ-004'],
    });
    await h.settle();
    await h.service.drained();
    await h.settle();
    expect(announced.find((o) => o.id === outage.id)).toEqual(outage);
    const list = await h.host.inject({ method: 'GET', url: '/v1/planned-outages?districtCode=TQ-004', headers: auth(READ_KEY) });
    expect(list.json<{ items: PlannedOutage[] }>().items.map((o) => o.id)).toEqual([outage.id]);
  });

  it('is idempotent on externalId: the same body → 200 with the same id; another body → 409', async () => {
    const b = body({ districtCodes: ['TQ-002'] });
    const first = await post(b);
    expect(first.statusCode).toBe(201);
    const again = await post(b);
    expect(again.statusCode).toBe(200);
    expect(again.json<PlannedOutage>().id).toBe(first.json<PlannedOutage>().id);
    const changed = await post({ ...b, reason: '另一个原因' });
    expect(changed.statusCode).toBe(409);
    expect(changed.json<{ error: { code: string } }>().error.code).toBe('conflict');
  });

  it('refuses short notice (422): planned < 7 days, temporary < 24 h; a temporary outage a day and more ahead is fine', async () => {
    const soon = Date.now() + 3 * DAY;
    const planned = await post(body({ start: new Date(soon).toISOString(), end: new Date(soon + HOUR).toISOString() }));
    expect(planned.statusCode).toBe(422);
    expect(planned.json<{ error: { code: string } }>().error.code).toBe('short_notice');
    const tooSoon = Date.now() + 2 * HOUR;
    const temporary = await post(
      body({ kind: 'temporary', districtCodes: ['TQ-003'], start: new Date(tooSoon).toISOString(), end: new Date(tooSoon + HOUR).toISOString() }),
    );
    expect(temporary.statusCode).toBe(422);
    const ok = await post(
      body({ kind: 'temporary', districtCodes: ['TQ-001'], start: new Date(soon).toISOString(), end: new Date(soon + HOUR).toISOString() }),
    );
    expect(ok.statusCode).toBe(201);
  });

  it('refuses unknown 台区 and feeders (422), and an overlap with a scheduled outage of a 台区 (409)', async () => {
    const unknown = await post(body({ districtCodes: ['TQ-001', 'TQ-999'] }));
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json<{ error: { code: string; details: unknown } }>().error).toMatchObject({ code: 'unknown_district', details: { codes: ['TQ-999'] } });
    const feeder = await post(body({ districtCodes: undefined, feederCode: 'XX-10kV-09' }));
    expect(feeder.statusCode).toBe(422);
    expect(feeder.json<{ error: { code: string } }>().error.code).toBe('unknown_feeder');

    const start = Date.now() + 20 * DAY;
    const first = await post(body({ districtCodes: ['TQ-001'], start: new Date(start).toISOString(), end: new Date(start + 4 * HOUR).toISOString() }));
    expect(first.statusCode).toBe(201);
    // The feeder HH-10kV-01 holds TQ-001: an outage two hours into the first one overlaps it.
    const overlapping = await post(
      body({
        districtCodes: undefined,
        feederCode: 'HH-10kV-01',
        start: new Date(start + 2 * HOUR).toISOString(),
        end: new Date(start + 6 * HOUR).toISOString(),
      }),
    );
    expect(overlapping.statusCode).toBe(409);
    expect(overlapping.json<{ error: { code: string; details: unknown } }>().error).toMatchObject({
      code: 'overlap',
      details: { outageId: first.json<PlannedOutage>().id, districtCode: 'TQ-001' },
    });
    // Right after it ends: no overlap.
    const after = await post(
      body({ districtCodes: ['TQ-001'], start: new Date(start + 4 * HOUR).toISOString(), end: new Date(start + 5 * HOUR).toISOString() }),
    );
    expect(after.statusCode).toBe(201);
  });

  it('needs workorders:write (or admin), and a well-formed body', async () => {
    expect((await post(body(), READ_KEY)).statusCode).toBe(403);
    const b = body();
    expect((await post({ ...b, end: b.start })).statusCode).toBe(400);
  });
});

describe('PUT /v1/planned-outages/:id and POST /v1/planned-outages/:id/cancel', () => {
  const put = (id: string, payload: unknown, key = ADMIN_KEY) =>
    h.host.inject({ method: 'PUT', url: `/v1/planned-outages/${id}`, headers: auth(key), payload: payload as object });
  const cancel = (id: string, key = ADMIN_KEY) => h.host.inject({ method: 'POST', url: `/v1/planned-outages/${id}/cancel`, headers: auth(key) });
  const stored = async (id: string) =>
    (
      await h.db.pool.query<{ status: string; starts_at: Date; ends_at: Date }>(
        'SELECT status, starts_at, ends_at FROM routing.planned_outages WHERE id = $1',
        [id],
      )
    ).rows[0];
  const code = (res: { json<T>(): T }) => res.json<{ error: { code: string } }>().error.code;
  const window = (startMs: number, hoursLong = 4) => ({ start: new Date(startMs).toISOString(), end: new Date(startMs + hoursLong * HOUR).toISOString() });

  it('moves an outage that has not started, announces the new window, and refuses bad input with nothing stored', async () => {
    const start = Date.now() + 40 * DAY;
    const outage = (await post(body({ districtCodes: ['TQ-002'], ...window(start) }))).json<PlannedOutage>();
    const before = await stored(outage.id);

    expect((await put('no-such-outage', window(start + DAY))).statusCode).toBe(404);
    expect((await put(outage.id, window(start + DAY), READ_KEY)).statusCode).toBe(403);
    const backwards = await put(outage.id, { start: new Date(start + DAY).toISOString(), end: new Date(start).toISOString() });
    expect([backwards.statusCode, code(backwards)]).toEqual([422, 'invalid_window']);
    const past = await put(outage.id, window(Date.now() - HOUR));
    expect([past.statusCode, code(past)]).toEqual([422, 'invalid_window']);
    // Earlier than it was, a planned outage still needs its 7 days' notice.
    const early = await put(outage.id, window(Date.now() + 2 * DAY));
    expect([early.statusCode, code(early)]).toEqual([422, 'short_notice']);
    const other = (await post(body({ districtCodes: ['TQ-002'], ...window(start + 10 * DAY) }))).json<PlannedOutage>();
    const clash = await put(outage.id, window(start + 10 * DAY + HOUR));
    expect([clash.statusCode, code(clash)]).toEqual([409, 'overlap']);
    expect((await put(outage.id, { ...window(start + DAY), districtCodes: ['TQ-001'] })).statusCode).toBe(400);
    expect(await stored(outage.id)).toEqual(before);

    const moved = await put(outage.id, { ...window(start + DAY, 6), reason: '改期检修' });
    expect(moved.statusCode).toBe(200);
    expect(moved.json<PlannedOutage>()).toMatchObject({ id: outage.id, status: 'scheduled', ...window(start + DAY, 6), reason: '改期检修' });
    await h.service.drained();
    await h.settle();
    expect(announced.filter((o) => o.id === outage.id).at(-1)).toMatchObject({ ...window(start + DAY, 6) });
    // Calls follow the new window (rule 7's look-up reads the moved 台区 rows).
    const { rows } = await h.db.pool.query<{ starts_at: Date }>('SELECT starts_at FROM routing.planned_outage_districts WHERE outage_id = $1', [outage.id]);
    expect(rows.map((r) => r.starts_at.getTime())).toEqual([start + DAY]);
    expect((await cancel(other.id)).statusCode).toBe(200);
  });

  it('cancels an outage once; a cancelled or started one can no longer change (409)', async () => {
    const start = Date.now() + 60 * DAY;
    const outage = (await post(body({ districtCodes: ['TQ-003'], ...window(start) }))).json<PlannedOutage>();
    expect((await cancel('no-such-outage')).statusCode).toBe(404);
    expect((await cancel(outage.id, READ_KEY)).statusCode).toBe(403);
    const done = await cancel(outage.id);
    expect(done.statusCode).toBe(200);
    expect(done.json<PlannedOutage>().status).toBe('cancelled');
    await h.service.drained();
    await h.settle();
    expect(announced.filter((o) => o.id === outage.id).at(-1)?.status).toBe('cancelled');
    const again = await cancel(outage.id);
    expect([again.statusCode, code(again)]).toEqual([409, 'cancelled']);
    expect(code(await put(outage.id, window(start + DAY)))).toBe('cancelled');

    const started = (await post(body({ districtCodes: ['TQ-003'], ...window(start + 5 * DAY) }))).json<PlannedOutage>();
    await h.db.pool.query("UPDATE routing.planned_outages SET starts_at = now() - interval '1 hour' WHERE id = $1", [started.id]);
    const late = await cancel(started.id);
    expect([late.statusCode, code(late)]).toEqual([409, 'started']);
    expect(code(await put(started.id, window(start + 6 * DAY)))).toBe('started');
    expect((await stored(started.id))?.status).toBe('scheduled');
  });
});

describe('rule 7: calls inside a planned outage', () => {
  it('a fault call in [start, end + 15 min] joins the outage incident as merged with the planned end; after end + 15 min it dispatches normally', async () => {
    const start = Date.now() + 30 * DAY;
    const end = start + 4 * HOUR;
    const res = await post(body({ districtCodes: ['TQ-004'], start: new Date(start).toISOString(), end: new Date(end).toISOString() }));
    expect(res.statusCode).toBe(201);
    const outage = res.json<PlannedOutage>();

    const [inside] = await h.send(requestEvent({ receivedAt: new Date(start + HOUR).toISOString(), location: { districtCode: 'TQ-004' } }));
    const a = assigned(inside);
    // merged: no timers (sla-timer starts none for merged), no crew, no staff notice; told the planned end.
    expect(a).toMatchObject({ role: 'merged', etr: new Date(end).toISOString() });
    const incident = await getIncident(h.db.pool, a.incidentId!);
    expect(incident).toMatchObject({
      origin: 'planned',
      plannedOutageId: outage.id,
      primaryRequestId: null,
      etrSource: 'planned',
      etr: new Date(end).toISOString(),
    });
    // Late restoration: ten minutes after the end still joins.
    const [late] = await h.send(requestEvent({ receivedAt: new Date(end + 10 * 60_000).toISOString(), location: { districtCode: 'TQ-004' } }));
    expect(assigned(late)).toMatchObject({ role: 'merged', incidentId: a.incidentId });

    const [after] = await h.send(requestEvent({ receivedAt: new Date(end + 20 * 60_000).toISOString(), location: { districtCode: 'TQ-004' } }));
    const b = assigned(after);
    expect(b.role).toBe('primary');
    expect(b.incidentId).not.toBe(a.incidentId);
    expect((await getIncident(h.db.pool, b.incidentId!))?.origin).toBe('call');
  });
});
