import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '@griddispatch/testkit';
import { importCommand } from './import.ts';
import type { CliIo } from './io.ts';

let db: Awaited<ReturnType<typeof freshDatabase>>;
let dir: string;

function io(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env: { DATABASE_URL: db.url },
    now: () => new Date(),
    signal: new AbortController().signal,
    out: () => out,
    err: () => err,
  };
}

beforeAll(async () => {
  db = await freshDatabase('cliimport');
  dir = await mkdtemp(join(tmpdir(), 'gd-import-'));
});

afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('griddispatch import', () => {
  it('writes the sample county in the import formats and loads it, with progress', async () => {
    const write = io();
    expect(await importCommand(['--sample', dir], write)).toBe(0);
    expect(write.out()).toContain('customers.csv');

    const load = io();
    expect(await importCommand([dir], load)).toBe(0);
    const records = (await readFile(join(dir, 'customers.csv'), 'utf8')).trim().split('\n').length - 1;
    expect(records).toBeGreaterThanOrEqual(13_700); // 后湖 alone has 13,700 accounts
    expect(load.err()).toContain(`apply  customers.csv: ${records.toLocaleString('en-US')} / ${records.toLocaleString('en-US')}`);
    expect(load.out()).toMatch(new RegExp(`customers +${records} new`));
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM routing.customers');
    expect(rows[0].n).toBe(records);
  });

  it('reports a bad file by file and line and applies nothing', async () => {
    const customers = join(dir, 'customers.csv');
    const lines = (await readFile(customers, 'utf8')).trim().split('\n');
    const firstRecord = lines[1]!;
    const account = firstRecord.split(',')[0]!;
    // A customer on an unknown 台区, and the first account again.
    await appendFile(customers, `9999999999,NO-SUCH-TQ,resident,,\n${firstRecord.replace(/^\d+/, account)}\n`);
    const before = await db.pool.query('SELECT count(*)::int AS n FROM routing.customers');

    const run = io();
    expect(await importCommand([dir], run)).toBe(1);
    expect(run.err()).toMatch(new RegExp(`customers\\.csv:${lines.length + 1}: .*NO-SUCH-TQ`));
    expect(run.err()).toMatch(new RegExp(`customers\\.csv:${lines.length + 2}: .*${account}`));
    expect(run.err()).toContain('nothing was imported');
    const after = await db.pool.query('SELECT count(*)::int AS n FROM routing.customers');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('refuses a file it does not know, with usage', async () => {
    const run = io();
    expect(await importCommand([join(dir, 'people.csv')], run)).toBe(2);
    expect(run.err()).toContain('not an import file name');
  });
});
