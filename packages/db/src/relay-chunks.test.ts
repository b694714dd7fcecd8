import { describe, expect, it } from 'vitest';
import { chunksByTopic, type OutboxRow } from './relay-chunks.ts';

let nextId = 1;
function row(topic: string, key: string, value: string): OutboxRow {
  return { id: String(nextId++), topic, key, value, headers: { 'ce-id': `e${nextId}` } };
}

describe('chunksByTopic', () => {
  it('keeps each topic in id order and every call under the byte bound, however the keys fall', () => {
    // One hot key: a Kafka producer would put all of it in one partition's record batch.
    const rows = Array.from({ length: 3000 }, (_, i) => row(i % 3 === 0 ? 'a' : 'b', 'hot', `${i}:${'x'.repeat(900)}`));
    const chunks = chunksByTopic(rows, 100_000);
    expect([...chunks.keys()]).toEqual(['a', 'b']);
    for (const [topic, calls] of chunks) {
      const values = calls.flat().map((m) => String(m.value));
      expect(values).toEqual(rows.filter((r) => r.topic === topic).map((r) => r.value));
      for (const call of calls) expect(call.reduce((sum, m) => sum + String(m.value).length + 100, 0)).toBeLessThanOrEqual(110_000);
      expect(calls.length).toBeGreaterThan(5);
    }
  });

  it('counts bytes, not characters (Chinese text is three bytes a character)', () => {
    const rows = Array.from({ length: 10 }, () => row('t', 'k', '鱼塘增氧机停电'.repeat(100)));
    // 2,100 bytes each with the overhead: two fit in 5,000 bytes, three do not.
    expect(
      chunksByTopic(rows, 5000)
        .get('t')
        ?.map((c) => c.length),
    ).toEqual([2, 2, 2, 2, 2]);
  });

  it('sends a record larger than the bound alone rather than never', () => {
    const rows = [row('t', 'k', 'small'), row('t', 'k', 'y'.repeat(10_000)), row('t', 'k', 'small too')];
    expect(
      chunksByTopic(rows, 1000)
        .get('t')
        ?.map((c) => c.map((m) => String(m.value).length)),
    ).toEqual([[5], [10_000], [9]]);
  });
});
