import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapter12345 } from '../adapters/12345.ts';
import { adapter95598 } from '../adapters/95598.ts';
import { KEYS, requestBody, startHarness, type Harness } from '../testing/harness.ts';

// Idempotency squatting (issue 17): an integrator's key is bound to its own sources, so it can
// neither take 95598's ticket numbers first nor learn which of them exist.

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ start: false });
});
afterAll(async () => {
  await h?.close();
});

describe('sources bound to keys', () => {
  it("refuses a key of another source a 95598 ticket number, stores nothing, and reveals nothing about 95598's tickets", async () => {
    const ticket = requestBody({ source: '95598', externalId: 'SQUAT-2026-0001' });
    const squat = await h.post('/v1/requests', ticket, KEYS.rival);
    expect(squat.statusCode).toBe(403);
    expect(squat.json().error.code).toBe('source_not_allowed');
    expect(await h.count('requests')).toBe(0);

    // The real 95598 system is not blocked by the attempt.
    const real = await h.post('/v1/requests', ticket, KEYS.only95598);
    expect(real.statusCode).toBe(202);
    expect(real.json().duplicate).toBe(false);

    // Same answer for a ticket that exists (same body, changed body) and one that does not:
    // never duplicate:true with the id, never 409.
    const existing = await h.post('/v1/requests', ticket, KEYS.rival);
    const changed = await h.post('/v1/requests', { ...ticket, description: '另一个描述' }, KEYS.rival);
    const absent = await h.post('/v1/requests', requestBody({ source: '95598', externalId: 'SQUAT-2026-0002' }), KEYS.rival);
    for (const res of [existing, changed, absent]) {
      expect(res.statusCode).toBe(403);
      expect(res.body).not.toContain(real.json().id);
    }
    expect(existing.json()).toEqual(absent.json());
    expect(changed.json()).toEqual(absent.json());
    expect(await h.count('requests')).toBe(1);

    // The owner's own retry and conflict behave as before.
    expect((await h.post('/v1/requests', ticket, KEYS.only95598)).json()).toMatchObject({ id: real.json().id, duplicate: true });
    expect((await h.post('/v1/requests', { ...ticket, description: '另一个描述' }, KEYS.only95598)).statusCode).toBe(409);
  });

  it("applies to the source adapters and Open311: a key posts only through its own sources' routes", async () => {
    const before = await h.count('requests');
    expect((await h.post('/v1/requests/95598', adapter95598.example, KEYS.rival)).statusCode).toBe(403);
    expect((await h.post('/v1/requests/12345', adapter12345.example, KEYS.only95598)).statusCode).toBe(403);
    const open311 = await h.inject({
      method: 'POST',
      url: '/open311/v2/requests.json',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        api_key: KEYS.rival,
        service_code: 'consultation',
        'attribute[community_code]': '421223100002',
        description: '咨询',
      }).toString(),
    });
    expect(open311.statusCode).toBe(403);
    expect(await h.count('requests')).toBe(before);
    expect((await h.post('/v1/requests/12345', adapter12345.example, KEYS.rival)).statusCode).toBe(202);
    // A key without a source list (here the harness' general writer) may post any source.
    expect((await h.post('/v1/requests', requestBody({ source: '12345' }))).statusCode).toBe(202);
  });

  it("refuses every key the source grid-dispatch: it is intake's own, for incidents' work orders", async () => {
    const before = await h.count('requests');
    const squat = await h.post('/v1/requests', requestBody({ source: 'grid-dispatch', externalId: 'incident:INC-1' }));
    expect(squat.statusCode).toBe(403);
    expect(squat.json().error.code).toBe('source_not_allowed');
    expect(await h.count('requests')).toBe(before);
  });
});
