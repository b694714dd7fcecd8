import { describe, expect, it } from 'vitest';
import { MinHeap } from './min-heap.ts';

describe('MinHeap', () => {
  it('pops in ascending order whatever the push order', () => {
    const heap = new MinHeap();
    const values = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1009);
    for (const v of values) heap.push(v);
    const out: number[] = [];
    while (heap.size > 0) out.push(heap.pop()!);
    expect(out).toEqual([...values].sort((a, b) => a - b));
  });

  it('drops everything due by a time', () => {
    const heap = new MinHeap();
    for (const v of [50, 10, 30, 20, 40]) heap.push(v);
    expect(heap.popUntil(30)).toBe(3);
    expect(heap.peek()).toBe(40);
  });
});
