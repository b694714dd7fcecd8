import type { CliIo } from './io.ts';

// An in-memory CliIo for tests: commands run as functions, their output is read back.

export interface TestIo {
  io: CliIo;
  stdout(): string;
  stderr(): string;
  /** Ctrl-C. */
  abort(): void;
}

export function testIo(options: { env?: Record<string, string | undefined>; now?: () => Date; tty?: boolean } = {}): TestIo {
  let out = '';
  let err = '';
  const controller = new AbortController();
  return {
    io: {
      stdout: { write: (text: string) => (out += text), isTTY: options.tty ?? false },
      stderr: { write: (text: string) => (err += text), isTTY: options.tty ?? false },
      env: options.env ?? {},
      now: options.now ?? (() => new Date()),
      signal: controller.signal,
    },
    stdout: () => out,
    stderr: () => err,
    abort: () => controller.abort(),
  };
}

/** Polls until `check` holds (or fails after `timeoutMs`). */
export async function eventually(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
