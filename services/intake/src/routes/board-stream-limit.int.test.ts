import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, startHarness, type Harness } from '../testing/harness.ts';
import { openSse, type SseStream } from '../testing/sse.ts';

// Issue 17.5: one key cannot hold more than GD_STREAMS_PER_KEY event streams open on a replica
// (each holds a socket, a hub subscription and up to 1 MiB of buffer). Real listening host.

let h: Harness;
let base: string;
const opened: SseStream[] = [];

beforeAll(async () => {
  h = await startHarness({ board: { heartbeatMs: 1000, streamsPerKey: 3 } });
  base = await h.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  for (const s of opened) s.close();
  await h?.close();
});

async function stream(key: string): Promise<SseStream> {
  const s = await openSse(`${base}/v1/events/stream`, { authorization: `Bearer ${key}` });
  opened.push(s);
  return s;
}

describe('event streams per key', () => {
  it('answers 429 too_many_streams past the cap, counts keys apart, and frees a place when a stream closes', async () => {
    const mine = [await stream(KEYS.field), await stream(KEYS.field), await stream(KEYS.field)];
    expect(mine.map((s) => s.status)).toEqual([200, 200, 200]);
    const refused = await stream(KEYS.field);
    expect(refused.status).toBe(429);
    refused.close();
    // Another key is not held back by this one.
    expect((await stream(KEYS.reader)).status).toBe(200);

    mine[0]!.close();
    let again = await stream(KEYS.field);
    for (let i = 0; again.status !== 200 && i < 50; i++) {
      again.close();
      await new Promise((r) => setTimeout(r, 20));
      again = await stream(KEYS.field);
    }
    expect(again.status).toBe(200);
    await again.next((m) => m.event === 'hello');
  });
});
