import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { compiledEntry } from '../../../infra/build/build.ts';

// Each service as a real child process, as `pnpm stack:up` runs it: `node dist/<service>.js` (the
// compiled build, made once per test run) with its own PORT, in its own process group, stdout
// and stderr in a log file.

export const ROOT = new URL('../../../', import.meta.url).pathname;

export type ServiceName = 'intake' | 'grid-routing' | 'sla-timer' | 'notification';

export interface ServiceProcess {
  /** `<service>-<n>`. */
  name: string;
  service: ServiceName;
  port: number;
  url: string;
  logFile: string;
  child: ChildProcess;
  /** Set once the process exited (code or signal). */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  exited: Promise<void>;
}

/** A port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function spawnService(service: ServiceName, n: number, env: NodeJS.ProcessEnv, logDir: string): Promise<ServiceProcess> {
  const port = await freePort();
  const name = `${service}-${n}`;
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, await compiledEntry(service), {
    cwd: ROOT,
    env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  const proc: ServiceProcess = { name, service, port, url: `http://127.0.0.1:${port}`, logFile, child, exit: null, exited: Promise.resolve() };
  proc.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      proc.exit = { code, signal };
      resolve();
    });
  });
  return proc;
}

export function logTail(proc: ServiceProcess, lines = 30): string {
  try {
    return readFileSync(proc.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function readyz(proc: ServiceProcess): Promise<number> {
  try {
    const res = await fetch(`${proc.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * Resolves once every process answers 200 on /readyz. Fails at once, with the log tail, when one
 * exits, and after `timeoutMs` naming the ones still starting. `progress` hears about every 5 s.
 */
export async function waitReady(procs: ServiceProcess[], timeoutMs: number, progress: (line: string) => void = () => undefined): Promise<void> {
  const started = Date.now();
  let nextReport = started + 5_000;
  for (;;) {
    const dead = procs.find((p) => p.exit);
    if (dead) throw new Error(`${dead.name} exited during start-up (${JSON.stringify(dead.exit)}):\n${logTail(dead)}`);
    const codes = await Promise.all(procs.map(readyz));
    const pending = procs.filter((_, i) => codes[i] !== 200);
    if (pending.length === 0) return;
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `not ready after ${timeoutMs} ms: ${pending.map((p) => p.name).join(', ')}\n${pending.map((p) => `--- ${p.name}\n${logTail(p, 15)}`).join('\n')}`,
      );
    }
    if (Date.now() >= nextReport) {
      progress(
        `waiting for /readyz (${Math.round((Date.now() - started) / 1000)} s): ${procs.length - pending.length}/${procs.length} ready, starting: ${pending.map((p) => p.name).join(' ')}`,
      );
      nextReport = Date.now() + 5_000;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function signalGroup(proc: ServiceProcess, signal: NodeJS.Signals): void {
  if (proc.exit || proc.child.pid === undefined) return;
  try {
    process.kill(-proc.child.pid, signal);
  } catch {
    // The group is gone already.
  }
}

/**
 * SIGTERM to every process group (graceful shutdown), SIGKILL to those still running after
 * `graceMs`. Never throws: it runs in afterAll, also after a failure.
 */
export async function stopAll(procs: ServiceProcess[], graceMs = 15_000): Promise<void> {
  for (const p of procs) signalGroup(p, 'SIGTERM');
  const all = Promise.all(procs.map((p) => p.exited));
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
  if ((await Promise.race([all, timer])) === 'timeout') {
    for (const p of procs) signalGroup(p, 'SIGKILL');
    await Promise.race([all, new Promise((r) => setTimeout(r, 5_000).unref())]);
  }
}
