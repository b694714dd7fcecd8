import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { adapter95598 } from '../adapters/95598.ts';
import { requestBody, startHarness, type Harness } from '../testing/harness.ts';

// Group commit through the real app and PostgreSQL: concurrent requests share transactions, and
// each is still answered as if it had come alone. The relay is not started, so every outbox row
// stays where the test can count it. A row's `xmin` is the transaction that inserted it: the
// number of distinct xmins is the number of commits that stored the requests.

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ start: false });
});
afterAll(async () => {
  await h?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rows of the requests with these external ids: id, body hash and inserting transaction. */
async function stored(externalIds: string[]): Promise<{ id: string; external_id: string; tx: string; outbox: number; timeline: number }[]> {
  const { rows } = await h.db.pool.query(
    `SELECT r.id, r.external_id, r.xmin::text AS tx,
       (SELECT count(*)::int FROM intake.outbox o WHERE o.key = r.id::text AND o.xmin = r.xmin) AS outbox,
       (SELECT count(*)::int FROM intake.timeline t WHERE t.request_id = r.id AND t.xmin = r.xmin) AS timeline
     FROM intake.requests r WHERE r.external_id = ANY($1)`,
    [externalIds],
  );
  return rows;
}

/**
 * Keeps the writer's two transactions busy — as if their commits were slow — so that what is
 * posted meanwhile waits and leaves as one group once `release()` is called.
 */
async function holdTheWriter(): Promise<{ release(): Promise<void>; blockers: Promise<unknown>[] }> {
  const locker: pg.PoolClient = await h.db.pool.connect();
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE intake.outbox IN EXCLUSIVE MODE');
  const blockers = [h.post('/v1/requests', requestBody()), h.post('/v1/requests', requestBody())];
  // pg_stat_activity keeps a statement's first 1 KB: the request insert's text, not its outbox part.
  for (let waiting = 0; waiting < 2; await sleep(10)) {
    const { rows } = await h.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%INSERT INTO intake.requests%'`,
    );
    waiting = rows[0]!.n;
  }
  return {
    blockers,
    async release() {
      await locker.query('COMMIT');
      locker.release();
      await Promise.all(blockers);
    },
  };
}

describe('group commit', () => {
  it('stores many concurrent requests once each, with their events, in a few transactions', async () => {
    const api = Array.from({ length: 240 }, () => requestBody());
    const viaAdapter = Array.from({ length: 60 }, (_, i) => ({ ...adapter95598.example, gdbh: `GC-95598-${Date.now()}-${i}` }));
    const answers = await Promise.all([...api.map((body) => h.post('/v1/requests', body)), ...viaAdapter.map((body) => h.post('/v1/requests/95598', body))]);
    expect(answers.map((a) => a.statusCode)).toEqual(Array(300).fill(202));
    expect(answers.every((a) => a.json().duplicate === false)).toBe(true);

    const rows = await stored([...api.map((b) => b.externalId as string), ...viaAdapter.map((b) => b.gdbh)]);
    expect(rows).toHaveLength(300);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(answers.map((a) => a.json().id)));
    // Each request's timeline entry and outbox row were written by its own row's transaction.
    expect(rows.every((r) => r.outbox === 1 && r.timeline === 1)).toBe(true);
    const commits = new Set(rows.map((r) => r.tx)).size;
    expect(commits).toBeLessThanOrEqual(30);
  });

  it('answers the second of two identical requests in one group as a duplicate of the first', async () => {
    const held = await holdTheWriter();
    const body = requestBody();
    const first = h.post('/v1/requests', body);
    await sleep(50);
    const second = h.post('/v1/requests', body);
    await sleep(50);
    const other = requestBody();
    const third = h.post('/v1/requests', other);
    await sleep(200);
    await held.release();

    const [a, b, c] = await Promise.all([first, second, third]);
    expect([a.statusCode, b.statusCode, c.statusCode]).toEqual([202, 202, 202]);
    expect(a.json()).toEqual({ id: expect.any(String), status: 'received', duplicate: false });
    expect(b.json()).toEqual({ id: a.json().id, status: 'received', duplicate: true });
    const rows = await stored([body.externalId as string, other.externalId as string]);
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.outbox === 1 && r.timeline === 1)).toBe(true);
    // One transaction stored both keys: the three requests were one group.
    expect(new Set(rows.map((r) => r.tx)).size).toBe(1);
  });

  it('refuses the second of two requests with one key and different bodies in one group, storing nothing for it', async () => {
    const held = await holdTheWriter();
    const body = requestBody();
    const first = h.post('/v1/requests', body);
    await sleep(50);
    const second = h.post('/v1/requests', { ...body, description: '另一件事' });
    await sleep(50);
    const other = requestBody();
    const third = h.post('/v1/requests', other);
    await sleep(200);
    await held.release();

    const [a, b, c] = await Promise.all([first, second, third]);
    expect([a.statusCode, b.statusCode, c.statusCode]).toEqual([202, 409, 202]);
    expect(b.json().error).toMatchObject({ code: 'idempotency_conflict', details: { id: a.json().id } });
    const rows = await stored([body.externalId as string, other.externalId as string]);
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.outbox === 1 && r.timeline === 1)).toBe(true);
    expect(new Set(rows.map((r) => r.tx)).size).toBe(1);
    const { rows: kept } = await h.db.pool.query('SELECT description FROM intake.requests WHERE id = $1', [a.json().id]);
    expect(kept).toEqual([{ description: body.description }]);
  });

  it('stores the rest of a group when one member is refused by the database', async () => {
    // A rule PostgreSQL enforces and validation does not know: this member fails its group.
    await h.db.pool.query(`ALTER TABLE intake.requests ADD CONSTRAINT test_no_poison CHECK (external_id NOT LIKE 'POISON-%')`);
    try {
      const held = await holdTheWriter();
      const good = Array.from({ length: 6 }, () => requestBody());
      const poison = requestBody({ externalId: `POISON-${Date.now()}` });
      const pending = [...good.slice(0, 3), poison, ...good.slice(3)].map((body) => h.post('/v1/requests', body));
      await sleep(200);
      await held.release();

      const answers = await Promise.all(pending);
      expect(answers.map((a) => a.statusCode)).toEqual([202, 202, 202, 500, 202, 202, 202]);
      const rows = await stored([...good, poison].map((b) => b.externalId as string));
      expect(rows.map((r) => r.external_id).sort()).toEqual(good.map((b) => b.externalId as string).sort());
      expect(rows.every((r) => r.outbox === 1 && r.timeline === 1)).toBe(true);
      const { rows: orphans } = await h.db.pool.query(`SELECT count(*)::int AS n FROM intake.outbox WHERE value LIKE '%POISON-%'`);
      expect(orphans[0].n).toBe(0);
    } finally {
      await h.db.pool.query('ALTER TABLE intake.requests DROP CONSTRAINT test_no_poison');
    }
  });
});
