import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { DEFAULT_TOPIC_PREFIX } from '@griddispatch/contracts';
import { envTimeZone } from '@griddispatch/http';

// What every operator command shares: its input/output (injectable, so tests call a command as a
// function and read what it printed), the environment it is configured from, and how failures
// become exit codes: 2 for bad usage or configuration, 1 for a failure at run time.

export interface Output {
  write(text: string): unknown;
  /** Colours, progress bars and `\r` redraws only on a terminal. */
  isTTY?: boolean;
}

export interface CliIo {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
  now: () => Date;
  /** Aborted on SIGINT/SIGTERM in the real CLI: long-running commands (tail, simulate) stop and clean up. */
  signal: AbortSignal;
}

/** A command: its arguments (after the command name) → exit code. */
export type Command = (args: string[], io: CliIo) => Promise<number>;

/** Bad arguments or configuration: the message and the command's usage go to stderr, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An expected failure at run time (server unreachable, topic missing): one clear line, exit 1. */
export class CliError extends Error {
  override name = 'CliError';
}

const CliEnv = z
  .object({
    KAFKA_BROKERS: z.string().trim().optional(),
    GD_TOPIC_PREFIX: z.string().default(DEFAULT_TOPIC_PREFIX),
    GD_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8080'),
    /** The embedded start's development key (`dev:dev-secret:admin`) unless told otherwise. */
    GD_API_KEY: z.string().min(1).default('dev-secret'),
    GD_TIME_ZONE: envTimeZone.default('Asia/Shanghai'),
  })
  .transform((e) => {
    const brokers =
      e.KAFKA_BROKERS?.split(',')
        .map((b) => b.trim())
        .filter(Boolean) ?? [];
    return {
      /** null: KAFKA_BROKERS unset (embedded mode keeps its bus inside the server process). */
      kafkaBrokers: brokers.length > 0 ? brokers : null,
      topicPrefix: e.GD_TOPIC_PREFIX,
      url: e.GD_URL.replace(/\/+$/, ''),
      apiKey: e.GD_API_KEY,
      timeZone: e.GD_TIME_ZONE,
    };
  });

export type CliConfig = z.output<typeof CliEnv>;

export function loadCliConfig(env: Record<string, string | undefined>): CliConfig {
  const parsed = CliEnv.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')));
  if (!parsed.success) {
    throw new UsageError(`invalid environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

type Options = NonNullable<ParseArgsConfig['options']>;

type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/**
 * node:util parseArgs with `--help`/`-h`, turning its errors (unknown option, missing value) into
 * UsageError. Returns null when help was asked for: runCommand prints the usage and exits 0.
 */
function parseCommandArgs<O extends Options>(args: string[], options: O): Parsed<O> | null {
  const end = args.indexOf('--');
  if ((end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h')) return null;
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) throw new UsageError(err.message);
    throw err;
  }
}

/** `<command> show` refuses the options only `<command> list` takes. */
export function refuseListOptions(command: string, values: Record<string, unknown>, listOnly: readonly string[]): void {
  const given = listOnly.find((k) => values[k] !== undefined);
  if (given !== undefined) throw new UsageError(`--${given} is for ${command} list`);
}

/** A non-negative integer option such as `--limit 20`. */
export function intOption(name: string, value: string | undefined, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/**
 * Runs a command on its parsed options: `--help` prints its usage (exit 0), and usage errors are
 * handled here so every command reports them the same way. Anything unexpected propagates
 * (main.ts prints it, exit 1).
 */
export async function runCommand<O extends Options>(
  io: CliIo,
  usage: string,
  args: string[],
  options: O,
  body: (parsed: Parsed<O>) => Promise<number>,
): Promise<number> {
  try {
    const parsed = parseCommandArgs(args, options);
    if (!parsed) {
      io.stdout.write(usage);
      return 0;
    }
    return await body(parsed);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`error: ${err.message}\n\n${usage}`);
      return 2;
    }
    if (err instanceof CliError) {
      io.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** The real process's io: stdout/stderr, the environment, and SIGINT/SIGTERM as an abort signal. */
export function processIo(): CliIo {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    // A second Ctrl-C does not wait for the clean-up.
    if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, now: () => new Date(), signal: controller.signal };
}

/** Adapts a command to main.ts' table: runs it on the process and sets the exit code. */
export function cli(command: Command): (args: string[]) => Promise<void> {
  return async (args) => {
    process.exitCode = await command(args, processIo());
  };
}
