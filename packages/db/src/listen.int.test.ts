import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '@griddispatch/testkit';
import { createLogger } from '@griddispatch/observability';
import { listen, type Listener } from './index.ts';
import { waitFor } from './test-fixtures/recording-bus.ts';

const logger = createLogger({ service: 'db-test', level: 'silent' });

let db: FreshDatabase;
let count = 0;
const listeners: Listener[] = [];

beforeAll(async () => {
  db = await freshDatabase('db_listen');
});

afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

afterAll(async () => {
  await db.drop();
});

/** A listener of its own channel and application name, recording what it is told. */
function listener(over: { retryMs?: number } = {}) {
  count += 1;
  const channel = `listen_test_${count}`;
  const applicationName = `griddispatch-listen-test:${count}`;
  const payloads: (string | undefined)[] = [];
  const events: string[] = [];
  const l = listen(db.pool, channel, (payload) => payloads.push(payload), {
    applicationName,
    logger,
    retryMs: over.retryMs ?? 50,
    onListening: (again) => events.push(again ? 'back' : 'listening'),
    onLost: () => events.push('lost'),
  });
  listeners.push(l);
  const backendPid = async () =>
    (await db.pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName])).rows[0]?.pid;
  const notify = (payload: string) => db.pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
  return { l, channel, payloads, events, backendPid, notify };
}

describe('listen', () => {
  it('is listening once ready, and hands over each NOTIFY of its channel only', async () => {
    const t = listener();
    const other = listener();
    await t.l.ready;
    expect(t.l.listening()).toBe(true);
    expect(t.events).toEqual(['listening']);
    await t.notify('one');
    await other.notify('not mine');
    await t.notify('two');
    await waitFor(() => t.payloads.length === 2, 5000, 'two notifications');
    expect(t.payloads).toEqual(['one', 'two']);
  });

  it('reconnects after its backend is terminated, says lost and back, and receives NOTIFYs again', async () => {
    const t = listener();
    await t.l.ready;
    const oldPid = await t.backendPid();
    expect(oldPid).toBeDefined();

    await db.pool.query('SELECT pg_terminate_backend($1)', [oldPid]);
    await waitFor(() => t.events.includes('back'), 10_000, 'the LISTEN to be back');
    expect(t.events).toEqual(['listening', 'lost', 'back']);
    expect(t.l.listening()).toBe(true);
    const newPid = await t.backendPid();
    expect(newPid).toBeDefined();
    expect(newPid).not.toBe(oldPid);

    await t.notify('after reconnect');
    await waitFor(() => t.payloads.includes('after reconnect'), 5000, 'the NOTIFY after the reconnect');
  });

  it('keeps retrying while the database refuses it, and listens once it can', async () => {
    // A role that may not log in yet: every attempt fails until it may.
    const role = `listen_late_${process.pid}`;
    await db.pool.query(`DROP ROLE IF EXISTS ${role}`);
    await db.pool.query(`CREATE ROLE ${role} NOLOGIN`);
    try {
      const url = new URL(db.url);
      url.username = role;
      url.password = '';
      const channel = 'listen_test_late';
      const payloads: (string | undefined)[] = [];
      let lost = 0;
      const l = listen(url.toString(), channel, (p) => payloads.push(p), { logger, retryMs: 50, maxRetryMs: 100, onLost: () => (lost += 1) });
      listeners.push(l);
      await l.ready;
      expect(l.listening()).toBe(false);
      await waitFor(() => lost >= 2, 5000, 'a second failed attempt');

      await db.pool.query(`ALTER ROLE ${role} LOGIN`);
      await waitFor(() => l.listening(), 5000, 'the LISTEN once the role may log in');
      await db.pool.query('SELECT pg_notify($1, $2)', [channel, 'late']);
      await waitFor(() => payloads.includes('late'), 5000, 'the NOTIFY');
      await l.close();
    } finally {
      await db.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [role]);
      await db.pool.query(`DROP ROLE IF EXISTS ${role}`);
    }
  });

  it('closes cleanly: the connection goes, nothing reconnects, close() again is harmless', async () => {
    const t = listener();
    await t.l.ready;
    expect(await t.backendPid()).toBeDefined();
    await t.l.close();
    expect(t.l.listening()).toBe(false);
    await waitFor(async () => (await t.backendPid()) === undefined, 5000, 'the connection to go');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await t.backendPid()).toBeUndefined();
    expect(t.events).toEqual(['listening']);
    await t.l.close();
  });

  it('closes while it is waiting to reconnect', async () => {
    const t = listener({ retryMs: 60_000 });
    await t.l.ready;
    await db.pool.query('SELECT pg_terminate_backend($1)', [await t.backendPid()]);
    await waitFor(() => t.events.includes('lost'), 5000, 'the loss');
    const started = Date.now();
    await t.l.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
