import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wallNow } from './kafka.ts';
import { createPoster, dueCount, runOpenLoop } from './load.ts';

describe('dueCount', () => {
  it('is due by the clock: request i at i/rate', () => {
    expect(dueCount(-1, 100, 50)).toBe(0);
    expect(dueCount(0, 100, 50)).toBe(1);
    expect(dueCount(95, 100, 50)).toBe(10);
    expect(dueCount(100, 100, 50)).toBe(11);
    expect(dueCount(10_000, 100, 50)).toBe(50);
  });
});

describe('runOpenLoop', () => {
  it('keeps the schedule even when nothing comes back', async () => {
    const startAt = wallNow() + 20;
    const sends: { i: number; dueAt: number; at: number }[] = [];
    await runOpenLoop({ ratePerSecond: 200, count: 60, startAt, send: (i, dueAt) => sends.push({ i, dueAt, at: wallNow() }) });
    expect(sends.map((s) => s.i)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(sends[59]!.dueAt - startAt).toBeCloseTo((59 * 1000) / 200, 6);
    // Nothing leaves before it is due; the whole schedule takes about 295 ms.
    for (const s of sends) expect(s.at).toBeGreaterThanOrEqual(s.dueAt - 1);
    expect(sends[59]!.at - startAt).toBeGreaterThan(280);
  });
});

describe('createPoster', () => {
  let port = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { gdbh: string };
      if (req.headers.authorization !== 'Bearer k') {
        res.writeHead(401).end();
        return;
      }
      res
        .writeHead(202, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id: `id-${parsed.gdbh}`, status: 'received', duplicate: parsed.gdbh === 'again' }));
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('reports the id of a 202, duplicates, refusals and unreachable servers', async () => {
    const poster = createPoster(`http://127.0.0.1:${port}/v1/requests/95598`, 'k', { maxSockets: 4, timeoutMs: 2000 });
    const dueAt = wallNow();
    const ok = await poster.post({ gdbh: 'a1' }, dueAt);
    expect(ok).toMatchObject({ status: 202, id: 'id-a1', duplicate: false });
    expect(ok.latencyMs).toBeGreaterThanOrEqual(0);
    expect(await poster.post({ gdbh: 'again' }, dueAt)).toMatchObject({ status: 202, duplicate: true });
    poster.close();
    const wrongKey = createPoster(`http://127.0.0.1:${port}/`, 'nope', { maxSockets: 1, timeoutMs: 2000 });
    expect((await wrongKey.post({ gdbh: 'x' }, dueAt)).status).toBe(401);
    wrongKey.close();
    const closed = createPoster('http://127.0.0.1:1/', 'k', { maxSockets: 1, timeoutMs: 2000 });
    expect((await closed.post({}, dueAt)).status).toBe('ECONNREFUSED');
    closed.close();
  });
});
