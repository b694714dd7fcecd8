import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { compiledEntry } from '../../../infra/build/build.ts';

// A small process manager for the fault suite: each service runs as its own OS process (its
// distributed-mode main.ts under tsx) in its own process group, so SIGKILL takes the whole group
// at once and nothing survives to answer in its place. Output goes to a log file per service,
// appended across restarts, whose tail is shown when a service does not come up.

export const ROOT = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');

export interface ServiceSpec {
  /** `intake`, `grid-routing`, `sla-timer`, `notification`: run as `node dist/<name>.js`, as deployed. */
  name: 'intake' | 'grid-routing' | 'sla-timer' | 'notification';
  port: number;
  env: Record<string, string>;
  logFile: string;
}

export class ServiceProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);
  /** Times this process was SIGKILLed. */
  kills = 0;
  starts = 0;

  constructor(readonly spec: ServiceSpec) {}

  get name(): string {
    return this.spec.name;
  }

  get url(): string {
    return `http://127.0.0.1:${this.spec.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the service and waits until its /readyz answers 200. */
  async start(readyTimeoutMs = 90_000): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const log = openSync(this.spec.logFile, 'a');
    const child = spawn(process.execPath, await compiledEntry(this.spec.name), {
      cwd: ROOT,
      env: { ...process.env, ...this.spec.env },
      detached: true,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.child = child;
    this.starts += 1;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    await this.waitReady(readyTimeoutMs);
  }

  /** SIGKILL to the whole process group; resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid || !this.running) return;
    this.kills += 1;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
    await this.exited;
  }

  /** SIGTERM (graceful drain), SIGKILL after `graceMs`. For the cleanup at the end. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child?.pid || !this.running) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
    const gone = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!gone) await this.kill();
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited during start-up (exit ${this.child?.exitCode ?? this.child?.signalCode}):\n${this.logTail()}`);
      try {
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.logTail()}`);
      await sleep(200);
    }
  }

  logTail(lines = 25): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** A TCP port nothing listens on right now (the OS picks it). */
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

export async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
