import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The real entry points as an operator starts them: `tsx apps/griddispatch/src/main.ts` (what
// `pnpm griddispatch` runs) and the `griddispatch` bin (what `npx griddispatch` runs), with their
// exit codes.

const root = new URL('../../../../', import.meta.url).pathname;
const tsx = `${root}node_modules/.bin/tsx`;
const bin = `${root}apps/griddispatch/bin/griddispatch.js`;

function run(command: string, args: string[], env: Record<string, string> = {}) {
  const { KAFKA_BROKERS: _kafka, ...rest } = process.env;
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', env: { ...rest, ...env }, timeout: 60_000 });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('griddispatch entry points', () => {
  it('lists the commands with --help', () => {
    const { code, out, err } = run(tsx, ['apps/griddispatch/src/main.ts', '--help']);
    expect(code).toBe(0);
    const text = out + err;
    for (const command of ['start', 'tail <topic>', 'requests', 'dlq', 'simulate']) expect(text).toContain(`  ${command}`);
  });

  it('runs through the bin launcher with per-command help and exit code 2 for bad usage', () => {
    const help = run('node', [bin, 'dlq', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('usage: griddispatch dlq list');

    const bad = run('node', [bin, 'tail']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('error: tail needs a topic');
    expect(bad.err).toContain('usage: griddispatch tail');

    const unknownOption = run('node', [bin, 'simulate', '--rate', '5', '--duration', '1s', '--turbo']);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.err).toContain("Unknown option '--turbo'");
  });

  it('exits 1 with one clear line when the embedded mode has no Kafka to tail', () => {
    const { code, err } = run('node', [bin, 'tail', 'dispatch.assigned']);
    expect(code).toBe(1);
    expect(err).toContain('KAFKA_BROKERS is not set');
  });
});
