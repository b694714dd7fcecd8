import { describe, expect, it } from 'vitest';
import { GroupCommitWriter, type GroupOutcome } from './group-commit.ts';

// The writer's scheduling, with a stand-in for the database whose commits the test releases.

interface Commit {
  items: readonly string[];
  kind: 'group' | 'one';
  finish(): void;
  fail(err: Error): void;
}

function fakeStore(options: { failGroupsWith?: string } = {}) {
  const commits: Commit[] = [];
  const pending = (items: readonly string[], kind: Commit['kind']) =>
    new Promise<void>((resolve, reject) => commits.push({ items, kind, finish: resolve, fail: reject }));
  const writer = new GroupCommitWriter<string, string>({
    maxGroup: 3,
    async writeGroup(items) {
      await pending(items, 'group');
      if (options.failGroupsWith && items.includes(options.failGroupsWith)) throw new Error('poison');
      return items.map(
        (item): GroupOutcome<string> => (item.startsWith('bad') ? { ok: false, error: new Error(`rejected ${item}`) } : { ok: true, value: `stored ${item}` }),
      );
    },
    async writeOne(item) {
      await pending([item], 'one');
      if (item === options.failGroupsWith) throw new Error(`poison ${item}`);
      return `stored ${item}`;
    },
  });
  return { writer, commits };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommitWriter', () => {
  it('writes an item at once when a slot is free, and groups what arrives while both are busy', async () => {
    const { writer, commits } = fakeStore();
    const answers = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((item) => writer.write(item));
    await tick();
    // a and b took the two slots alone; the rest wait for a commit to finish.
    expect(commits.map((c) => c.items)).toEqual([['a'], ['b']]);
    commits[0]!.finish();
    await tick();
    expect(commits.map((c) => c.items)).toEqual([['a'], ['b'], ['c', 'd', 'e']]);
    expect(commits[2]!.kind).toBe('group');
    commits[1]!.finish();
    await tick();
    expect(commits[3]!.items).toEqual(['f', 'g']);
    commits[2]!.finish();
    commits[3]!.finish();
    expect(await Promise.all(answers)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((i) => `stored ${i}`));
  });

  it('answers the members of a group only after its commit, each with its own outcome', async () => {
    const { writer, commits } = fakeStore();
    void writer.write('x');
    void writer.write('y');
    const good = writer.write('c');
    const bad = writer.write('bad-d');
    let settled = false;
    void Promise.allSettled([good, bad]).then(() => (settled = true));
    commits[0]!.finish();
    await tick();
    await tick();
    expect(settled).toBe(false);
    commits[2]!.finish();
    await expect(good).resolves.toBe('stored c');
    await expect(bad).rejects.toThrow('rejected bad-d');
  });

  it('retries a failed group one member at a time, in order, so one bad member fails alone', async () => {
    const { writer, commits } = fakeStore({ failGroupsWith: 'p' });
    void writer.write('x');
    void writer.write('y');
    const answers = ['c', 'p', 'e'].map((item) => writer.write(item).catch((err: Error) => err.message));
    commits[0]!.finish();
    await tick();
    commits[2]!.finish();
    for (const item of ['c', 'p', 'e']) {
      await tick();
      const last = commits.at(-1)!;
      expect(last).toMatchObject({ kind: 'one', items: [item] });
      last.finish();
    }
    expect(await Promise.all(answers)).toEqual(['stored c', 'poison p', 'stored e']);
  });

  it('without writeOne: a lone item goes through writeGroup, and a failed group fails every member', async () => {
    const groups: string[][] = [];
    let failNext = false;
    const writer = new GroupCommitWriter<string, string>({
      maxInFlight: 1,
      async writeGroup(items) {
        groups.push([...items]);
        await tick();
        if (failNext) throw new Error('statement failed');
        return items.map((item) => ({ ok: true as const, value: `stored ${item}` }));
      },
    });
    expect(await writer.write('a')).toBe('stored a');
    failNext = true;
    const answers = await Promise.allSettled(['b', 'c', 'd'].map((item) => writer.write(item)));
    expect(groups).toEqual([['a'], ['b', 'c', 'd']]);
    expect(answers.map((a) => (a.status === 'rejected' ? (a.reason as Error).message : a.value))).toEqual([
      'statement failed',
      'statement failed',
      'statement failed',
    ]);
  });

  it('with gather: what arrives in one turn of the event loop leaves as one group, even with slots free', async () => {
    const groups: string[][] = [];
    const writer = new GroupCommitWriter<string, string>({
      gather: true,
      async writeGroup(items) {
        groups.push([...items]);
        return items.map((item) => ({ ok: true as const, value: `stored ${item}` }));
      },
    });
    const first = Promise.all(['a', 'b', 'c'].map((item) => writer.write(item)));
    await Promise.resolve();
    const late = writer.write('d'); // a microtask later: still the same turn
    expect(groups).toEqual([]);
    expect(await first).toEqual(['stored a', 'stored b', 'stored c']);
    expect(await late).toBe('stored d');
    expect(await writer.write('e')).toBe('stored e');
    expect(groups).toEqual([['a', 'b', 'c', 'd'], ['e']]);
  });
});
