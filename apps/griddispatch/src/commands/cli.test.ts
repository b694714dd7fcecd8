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
  it('writes --help to stdout with exit 0, so `griddispatch --help | less` shows it', () => {
    for (const flag of ['--help', '-h', 'help']) {
      const { code, out, err } = run(tsx, ['apps/griddispatch/src/main.ts', flag]);
      expect(code).toBe(0);
      expect(err).toBe('');
      for (const command of ['start', 'tail <topic>', 'requests', 'incidents', 'report', 'dlq', 'simulate', 'import <dir>'])
        expect(out).toContain(`  ${command}`);
    }
  });

  it("writes each command's help to stdout with exit 0, without running it", () => {
    for (const command of ['start', 'tail', 'requests', 'incidents', 'report', 'dlq', 'simulate', 'import']) {
      const { code, out, err } = run('node', [bin, command, '--help']);
      expect({ command, code, err }).toEqual({ command, code: 0, err: '' });
      expect(out).toMatch(new RegExp(`^usage: griddispatch ${command}`));
    }
    // `help <command>` is the same as `<command> --help`.
    const viaHelp = run('node', [bin, 'help', 'tail']);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.out).toMatch(/^usage: griddispatch tail/);
  });

  it('writes a missing or unknown command to stderr with exit 2 and nothing on stdout', () => {
    const none = run('node', [bin]);
    expect(none.code).toBe(2);
    expect(none.out).toBe('');
    expect(none.err).toContain('usage: griddispatch <command>');

    const unknown = run('node', [bin, 'launch']);
    expect(unknown.code).toBe(2);
    expect(unknown.out).toBe('');
    expect(unknown.err).toContain('error: unknown command: launch');

    const startArgs = run('node', [bin, 'start', '--port', '9']);
    expect(startArgs.code).toBe(2);
    expect(startArgs.out).toBe('');
    expect(startArgs.err).toContain('error: start takes no arguments');
  });

  it('runs through the bin launcher with per-command help and exit code 2 for bad usage', () => {
    const help = run('node', [bin, 'dlq', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('usage: griddispatch dlq list');

    const bad = run('node', [bin, 'tail']);
    expect(bad.code).toBe(2);
    expect(bad.out).toBe('');
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
